// Service switching (Bifulco et al. 2011): the workload keeps its address M; the routers
// translate M to a care-of address M* in the foreign network (stateless, so an existing UDP
// flow follows at once — conntrack NAT would keep its old translation), answer ARP by proxy
// on both LANs, and announce the changed neighbours by gratuitous ARP. Triggered by the
// workload's announcement, or by warplab when the driver reports the move complete.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabExtension } from '../../lab/extension.js';
import type { LabHandle } from '../../lab/handle.js';
import { packageRoot } from '../../paths.js';
import { realtimeNowMs } from '../../probe/clock.js';
import type { EventLog } from '../../probe/timeline.js';
import { hasCommand } from '../../shell/shell.js';
import { settingsOf, type Topology, type WorkloadSpec } from '../../topology/model.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, Placement, SwitchOutcome } from '../strategy-types.js';
import { nftScript, servicePlan, TABLE, type Garp, type NodeUpdate, type ServiceSwitchingData } from './service-switching/plan.js';
import { checkSettings, parseSettings, settingsSchema, type ServiceSwitchingSettings } from './service-switching/settings.js';
import { emptyState, roles, switchStates, type SwitchRole } from './service-switching/state.js';
import { nsToMs, startWatcher, type Watch } from './watcher.js';

export const garpBinary = join(packageRoot, 'agents', 'build', 'wl-garp');
const NAME = 'service-switching';

/**
 * The table every service switch gets when the lab comes up; moves only change its maps.
 * Prerouting at raw priority rewrites before routing and conntrack; postrouting last.
 */
export function tableScript(r: SwitchRole, mark: string): string {
  const out = r.foreignIfs.length ? `oifname != { ${r.foreignIfs.map((i) => `"${i}"`).join(', ')} } ${r.homes ? 'ip daddr @homes ' : ''}ip saddr set ip saddr map @src_out` : '';
  return `table ip ${TABLE} {
  comment "${mark}"
  map dst { type ipv4_addr : ipv4_addr; }
  map src_back { type ipv4_addr : ipv4_addr; }
  map src_out { type ipv4_addr : ipv4_addr; }
${r.homes ? `  set homes { type ipv4_addr; flags interval; elements = { ${r.homes.join(', ')} } }\n` : ''}  chain pre { type filter hook prerouting priority raw; policy accept; ip daddr set ip daddr map @dst; }
  chain post { type filter hook postrouting priority 300; policy accept; ip saddr set ip saddr map @src_back; ${out} }
}
`;
}

/**
 * Linux answers ARP by proxy only for targets it routes out of another interface, and
 * delays such answers to broadcast requests by up to proxy_delay (0.8 s by default).
 * A switch forwards a foreign host's packets back onto the LAN they came from: no ICMP
 * redirects, so the workload keeps using the path the paper describes.
 */
export function sysctls(r: SwitchRole): Record<string, string> {
  return {
    'net/ipv4/conf/all/send_redirects': '0',
    ...Object.fromEntries(r.lanIfs.flatMap((i) => [[`net/ipv4/conf/${i}/send_redirects`, '0'], [`net/ipv4/conf/${i}/proxy_arp`, '1'], [`net/ipv4/neigh/${i}/proxy_delay`, '0']])),
  };
}

const switchesExtension: LabExtension = {
  name: NAME,
  wanted: (t) => Object.keys(settingsOf<ServiceSwitchingSettings>(t, NAME)?.careOf ?? {}).length > 0,
  async missing() {
    const out: string[] = [];
    if (!existsSync(garpBinary)) out.push(`${garpBinary} is not built (service switching's gratuitous ARPs): run bash ci/setup.sh`);
    return out;
  },
  async start(lab, ctx) {
    const rs = roles(lab.topology, settingsOf(lab.topology, NAME));
    ctx.onProgress?.({ stage: 'service switches', done: 0, total: rs.length });
    let done = 0;
    await Promise.all(
      rs.map(async (r) => {
        const shell = lab.shell(r.node);
        if (!(await hasCommand(shell, 'nft'))) throw new Error(`${r.node} (${shell.where}) has no nft: apt-get install nftables`);
        const set = Object.entries(sysctls(r)).map(([k, v]) => `echo ${v} > /proc/sys/${k}`).join('; ');
        await shell.exec(['sh', '-c', `${set} && nft -f -`], { input: tableScript(r, lab.mark) + nftScript(emptyState()) });
        ctx.onProgress?.({ stage: 'service switches', done: ++done, total: rs.length });
      }),
    );
  },
  // The tables and sysctls live in the switches' namespaces and go with them.
  stop: async () => [],
};

async function applyUpdates(lab: LabHandle, updates: NodeUpdate[]): Promise<NetworkChange[]> {
  return Promise.all(
    updates.map(async (u) => {
      const shell = lab.shell(u.node);
      const t0 = performance.now();
      await shell.exec(['nft', '-f', '-'], { input: u.nft });
      if (u.routes.length) await shell.exec(['ip', '-force', '-batch', '-'], { input: u.routes.join('\n') + '\n' });
      return { node: u.node, action: 'apply', detail: `${u.routes.length ? `${u.routes.length} route(s), ` : ''}nat maps of table ${TABLE}`, atMs: realtimeNowMs(), kernelUs: Math.round((performance.now() - t0) * 1000) };
    }),
  );
}

/** The MACs of interfaces the gratuitous ARPs name, read before the move so the trigger does not wait for them. */
async function resolveGarps(lab: LabHandle, garps: Garp[]): Promise<{ node: string; iface: string; args: string[] }[]> {
  return Promise.all(
    garps.map(async (g) => ({
      node: g.node,
      iface: g.iface,
      args: await Promise.all(
        g.announce.map(async (a) => {
          if (!a.mac) return a.ip;
          if ('mac' in a.mac) return `${a.ip}=${a.mac.mac}`;
          const r = await lab.shell(a.mac.node).exec(['cat', `/sys/class/net/${a.mac.iface}/address`]);
          return `${a.ip}=${r.stdout.trim()}`;
        }),
      ),
    })),
  );
}

export class ServiceSwitching implements AddressStrategy<ServiceSwitchingSettings, ServiceSwitchingData> {
  readonly name = NAME;
  readonly summary = 'Bifulco et al. 2011: stateless NAT to a care-of address on the home, foreign and edge routers, proxy ARP and gratuitous ARP';
  readonly settingsSchema = settingsSchema;
  readonly extension = switchesExtension;

  settings(raw: unknown): ServiceSwitchingSettings {
    return parseSettings(raw);
  }

  check(t: Topology, s: ServiceSwitchingSettings, report: Parameters<NonNullable<AddressStrategy['check']>>[2]): void {
    checkSettings(t, s, report);
  }

  plan(t: Topology, w: WorkloadSpec, from: string, to: string, placement: Placement): MovePlan<ServiceSwitchingData> {
    return servicePlan(t, settingsOf(t, NAME), w, from, to, placement);
  }

  /** Every switch as the placement wants it (at lab start: the workload is at home, nothing to do). */
  async place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]> {
    const placement = Object.fromEntries(lab.topology.workloads.map((x) => [x.name, lab.workload(x.name)?.on ?? x.on]));
    const states = switchStates(lab.topology, settingsOf(lab.topology, NAME), { ...placement, [w.name]: hv });
    const updates = [...states].filter(([, st]) => Object.keys(st.dst).length || Object.keys(st.routes).length).map(([node, st]) => ({ node, nft: nftScript(st), routes: Object.entries(st.routes).map(([a, how]) => `route replace ${a}/32 ${how}`) }));
    return applyUpdates(lab, updates);
  }

  async arm(lab: LabHandle, p: MovePlan<ServiceSwitchingData>, o: ArmOptions): Promise<Armed> {
    const d = p.data;
    const garps = await resolveGarps(lab, d.garps);
    if (d.prime) await lab.shell(d.prime.node).exec(['ip', 'neigh', 'replace', d.address, 'lladdr', d.mac, 'dev', d.prime.iface, 'nud', 'reachable']);
    // The watcher only reports here: the announcement, and the first packet on the new path.
    const watch = await startWatcher(lab, { hv: p.to, iface: p.port, mac: d.mac, address: d.address, announce: o.announce, dir: o.dir });
    return {
      settled: (timeoutMs) => this.settled(lab, p, garps, watch, timeoutMs, o.events),
      disarm: () => watch.stop(),
    };
  }

  private async settled(lab: LabHandle, p: MovePlan<ServiceSwitchingData>, garps: { node: string; iface: string; args: string[] }[], watch: Watch, timeoutMs: number, events: EventLog): Promise<SwitchOutcome> {
    const announced = () => watch.events().find((e) => e.event === 'announce');
    let problem: string | undefined;
    if (p.trigger === 'announcement') {
      for (const deadline = Date.now() + timeoutMs; !announced() && Date.now() < deadline; await sleep(1));
      if (!announced()) problem = `no announcement from ${p.workload} on ${p.to} within ${timeoutMs} ms after the move (watcher events: ${watch.events().map((e) => e.event).join(', ') || 'none'}; ${watch.out})`;
    }
    const changes = await applyUpdates(lab, p.data.updates);
    const sent = await Promise.all(
      garps.map(async (g) => {
        await lab.shell(g.node).exec([garpBinary, '--iface', g.iface, ...g.args]);
        return { node: g.node, action: 'garp', detail: `on ${g.iface}: ${g.args.join(' ')}`, atMs: realtimeNowMs() };
      }),
    );
    const by = problem ? 'fallback' : p.trigger === 'announcement' ? 'watcher' : 'orchestrator';
    for (const c of [...changes, ...sent]) events.add({ atMs: c.atMs, kind: 'translator-switched', source: c.node, detail: `${c.action} ${c.detail}${by === 'fallback' ? ' (fallback by warplab)' : ''}` });
    const a = announced();
    const first = a ? await watch.firstPacket() : undefined;
    await watch.stop();
    if (a) events.add({ atMs: nsToMs(a.at_ns), kind: a.kind === 'rarp' ? 'rarp-seen' : 'arp-seen', source: `watcher@${p.to}`, detail: `${a.kind} from ${a.mac}` });
    if (first) events.add({ atMs: first, kind: 'first-packet-new-path', source: `watcher@${p.to}`, detail: `first packet to ${p.data.address} after the ${a!.kind}` });
    return {
      by,
      changes: [...changes, ...sent],
      ...(a ? { announce: { kind: a.kind, atMs: nsToMs(a.at_ns) } } : {}),
      ...(first ? { firstPacketMs: first } : {}),
      ...(problem ? { problem } : {}),
    };
  }
}
