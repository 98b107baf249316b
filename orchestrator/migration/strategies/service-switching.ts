// Service switching (Bifulco et al. 2011): the workload keeps its address M; the routers
// translate M to a care-of address M* in the foreign network (stateless, so an existing UDP
// flow follows at once — conntrack NAT would keep its old translation), answer ARP by proxy
// on both LANs, and announce the changed neighbours by gratuitous ARP. Triggered by the
// workload's announcement, or by warplab when the driver reports the move complete.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabExtension } from '../../lab/extension.js';
import type { LabHandle } from '../../lab/handle.js';
import { packageRoot } from '../../paths.js';
import { realtimeNowMs } from '../../probe/clock.js';
import { LocalShell } from '../../shell/local.js';
import { hasCommand, shQuote } from '../../shell/shell.js';
import { settingsOf, type Topology, type WorkloadSpec } from '../../topology/model.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, NodeRules, Placement } from '../strategy-types.js';
import { nftScript, servicePlan, TABLE, type Garp, type NodeUpdate, type ServiceSwitchingData } from './service-switching/plan.js';
import { checkOverrides, checkSettings, parseSettings, settingsSchema, withOverrides, type ServiceSwitchingSettings } from './service-switching/settings.js';
import { emptyState, roles, switchStates, type SwitchRole } from './service-switching/state.js';
import { LISTENER_COMMANDS, type NodeAction } from './listeners.js';
import { armPrepared } from './prepared-switch.js';

export const garpBinary = join(packageRoot, 'agents', 'build', 'wl-garp');
const NAME = 'service-switching';

/**
 * The table every service switch gets when the lab comes up; moves only change its maps.
 * Prerouting at raw priority rewrites before routing and conntrack; postrouting last.
 */
export function tableScript(r: SwitchRole, mark: string): string {
  const notLan = `oifname != { ${r.foreignIfs.map((i) => `"${i}"`).join(', ')} }`;
  const out = r.foreignIfs.length ? [`${notLan} ip saddr set ip saddr map @saddr_out`, `${notLan} ip daddr @homes ip saddr set ip saddr map @saddr_home`] : [];
  return `table ip ${TABLE} {
  comment "${mark}"
  map daddr_in { type ipv4_addr : ipv4_addr; }
  map saddr_back { type ipv4_addr : ipv4_addr; }
  map saddr_out { type ipv4_addr : ipv4_addr; }
  map saddr_home { type ipv4_addr : ipv4_addr; }
${r.homes.length ? `  set homes { type ipv4_addr; flags interval; elements = { ${r.homes.join(', ')} }; }\n` : ''}  chain pre {
    type filter hook prerouting priority raw; policy accept;
    ip daddr set ip daddr map @daddr_in
  }
  chain post {
    type filter hook postrouting priority 300; policy accept;
    ip saddr set ip saddr map @saddr_back
${out.map((l) => `    ${l}\n`).join('')}  }
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

/** What each switch's machine runs: a listener holds its prepared changes until the trigger, nft is its stateless NAT. */
const SWITCH_COMMANDS = [...LISTENER_COMMANDS, { command: 'nft', install: 'apt-get install nftables' }];

const switchesExtension: LabExtension = {
  name: NAME,
  // Through the switches' Shells and machines; wl-garp is placed on each one's machine.
  spansHosts: true,
  wanted: (t) => Object.keys(settingsOf<ServiceSwitchingSettings>(t, NAME)?.careOf ?? {}).length > 0,
  async missing(t) {
    const out: string[] = [];
    if (!existsSync(garpBinary)) out.push(`${garpBinary} is not built (service switching's gratuitous ARPs): run bash ci/setup.sh`);
    if (t.hosts) return out; // the switches' hosts are asked for the rest (needsOnNodes)
    const local = new LocalShell('host');
    for (const c of SWITCH_COMMANDS) if (!(await hasCommand(local, c.command))) out.push(`${c.command} is missing (service switching's switches): ${c.install}`);
    return out;
  },
  needsOnNodes: (t) => roles(t, settingsOf(t, NAME)).flatMap((r) => SWITCH_COMMANDS.map((c) => ({ node: r.node, ...c }))),
  async start(lab, ctx) {
    const rs = roles(lab.topology, settingsOf(lab.topology, NAME));
    ctx.onProgress?.({ stage: 'service switches', done: 0, total: rs.length });
    let done = 0;
    await Promise.all(
      rs.map(async (r) => {
        const shell = lab.shell(r.node);
        const set = Object.entries(sysctls(r)).map(([k, v]) => `echo ${v} > /proc/sys/${k}`).join('; ');
        await shell.exec(['sh', '-c', `${set} && nft -f -`], { input: tableScript(r, lab.mark) + nftScript(emptyState()) });
        ctx.onProgress?.({ stage: 'service switches', done: ++done, total: rs.length });
      }),
    );
  },
  // The tables and sysctls live in the switches' namespaces and go with them.
  stop: async () => [],
};

/** Each switch's part: its nft transaction and routes, then (after answering) its gratuitous ARPs. */
function actionsOf(updates: NodeUpdate[], garps: ResolvedGarp[], garpOn: Map<string, string>): NodeAction[] {
  const nodes = [...new Set([...updates.map((u) => u.node), ...garps.map((g) => g.node)])];
  return nodes.map((node) => {
    const u = updates.find((x) => x.node === node);
    const mine = garps.filter((x) => x.node === node);
    return {
      node,
      detail: [...(u ? [`nat maps of ${TABLE}`, ...(u.routes.length ? [`${u.routes.length} host route(s)`] : [])] : []), ...mine.map((g) => `gratuitous ARP on ${g.iface} for ${g.args.map((x) => x.split('=')[0]).join(', ')}`)].join(', '),
      files: u ? { nft: u.nft, ...(u.routes.length ? { routes: u.routes.join('\n') + '\n' } : {}) } : {},
      commands: u ? ['nft -f {files}.nft', ...(u.routes.length ? ['ip -force -batch {files}.routes'] : [])] : [],
      // The answer goes once the node forwards the new way; the gratuitous ARPs follow it.
      after: mine.map((g) => [garpOn.get(node)!, '--iface', g.iface, ...g.args].map(shQuote).join(' ')),
    };
  });
}

interface ResolvedGarp {
  node: string;
  iface: string;
  /** wl-garp's `IP[=MAC]` arguments. */
  args: string[];
}

async function resolveGarps(lab: LabHandle, garps: Garp[]): Promise<ResolvedGarp[]> {
  return Promise.all(
    garps.map(async (g) => ({
      node: g.node,
      iface: g.iface,
      args: await Promise.all(
        g.announce.map(async (a) => {
          if (!a.mac) return a.ip;
          if ('mac' in a.mac) return `${a.ip}=${a.mac.mac}`;
          // Not /sys: it shows the namespace it was mounted in, not the node's.
          const r = await lab.shell(a.mac.node).exec(['ip', '-j', 'link', 'show', 'dev', a.mac.iface]);
          return `${a.ip}=${(JSON.parse(r.stdout) as { address: string }[])[0]!.address}`;
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

  checkOverrides(t: Topology, raw: unknown, report: Parameters<NonNullable<AddressStrategy['checkOverrides']>>[2]): void {
    checkOverrides(t, raw, report);
  }

  plan(t: Topology, w: WorkloadSpec, from: string, to: string, placement: Placement, overrides?: unknown): MovePlan<ServiceSwitchingData> {
    return servicePlan(t, withOverrides(settingsOf(t, NAME), overrides), w, from, to, placement);
  }

  /** Every switch as the placement wants it (at lab start: the workload is at home, nothing to do). */
  async place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]> {
    const placement = Object.fromEntries(lab.topology.workloads.map((x) => [x.name, lab.workload(x.name)?.on ?? x.on]));
    const states = switchStates(lab.topology, settingsOf(lab.topology, NAME), { ...placement, [w.name]: hv });
    const updates = [...states].filter(([, st]) => Object.keys(st.dst).length || Object.keys(st.routes).length).map(([node, st]) => ({ node, nft: nftScript(st), routes: Object.entries(st.routes).map(([a, how]) => `route replace ${a}/32 ${how}`) }));
    return Promise.all(
      updates.map(async (u) => {
        const shell = lab.shell(u.node);
        await shell.exec(['nft', '-f', '-'], { input: u.nft });
        if (u.routes.length) await shell.exec(['ip', '-force', '-batch', '-'], { input: u.routes.join('\n') + '\n' });
        return { node: u.node, action: 'apply', detail: `nat maps of ${TABLE}, ${u.routes.length} host route(s)`, atMs: realtimeNowMs() };
      }),
    );
  }

  /** NAT maps, host routes and proxy ARP as the switches have them now. */
  async rules(lab: LabHandle): Promise<NodeRules[]> {
    return Promise.all(
      roles(lab.topology, settingsOf(lab.topology, NAME)).map(async (r) => {
        const shell = lab.shell(r.node);
        const nft = JSON.parse((await shell.exec(['nft', '-j', 'list', 'table', 'ip', TABLE])).stdout) as { nftables: { map?: { name: string; elem?: [string, string][] } }[] };
        const scope: Record<string, string> = { daddr_in: 'dst, every ingress', saddr_back: 'src, every egress', saddr_out: 'src, toward the core', saddr_home: 'src, toward the home network' };
        const nat = nft.nftables.flatMap((x) => (x.map?.elem ?? []).map(([a, b]) => [a, b, scope[x.map!.name] ?? x.map!.name]));
        const routes = (JSON.parse((await shell.exec(['ip', '-j', '-4', 'route', 'show'])).stdout) as { dst: string; gateway?: string; dev: string }[]).filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x.dst));
        // /proc/sys/net answers for the reader's network namespace, unlike /sys.
        const proxy = await Promise.all(r.lanIfs.map(async (i) => [i, (await shell.exec(['cat', `/proc/sys/net/ipv4/conf/${i}/proxy_arp`, `/proc/sys/net/ipv4/neigh/${i}/proxy_delay`])).stdout.trim().split('\n').join(' / ')]));
        return {
          node: r.node,
          strategy: NAME,
          tables: [
            { title: 'stateless NAT', header: ['FROM', 'TO', 'WHERE'], rows: nat },
            { title: 'host routes', header: ['ADDRESS', 'VIA'], rows: routes.map((x) => [x.dst, x.gateway ? `via ${x.gateway} dev ${x.dev}` : `dev ${x.dev}`]) },
            { title: 'proxy ARP', header: ['INTERFACE', 'PROXY_ARP / PROXY_DELAY'], rows: proxy },
          ],
        };
      }),
    );
  }

  async arm(lab: LabHandle, p: MovePlan<ServiceSwitchingData>, o: ArmOptions): Promise<Armed> {
    const d = p.data;
    const garps = await resolveGarps(lab, d.garps);
    if (d.prime) await lab.shell(d.prime.node).exec(['ip', 'neigh', 'replace', d.address, 'lladdr', d.mac, 'dev', d.prime.iface, 'nud', 'reachable']);
    // wl-garp where each announcing switch runs.
    const garpOn = new Map(await Promise.all([...new Set(garps.map((g) => g.node))].map(async (n) => [n, await lab.machine(n).place(garpBinary)] as const)));
    return armPrepared(lab, p, o, { prefix: 'ss', actions: actionsOf(d.updates, garps, garpOn), mac: d.mac, address: d.address });
  }
}
