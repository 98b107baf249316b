// Routing update: the workload keeps its address wherever it runs, and the router on the LAN
// it joins announces its /32 by BGP (BIRD on every router), the one on the LAN it left
// withdraws it. The /32 beats the topology's static routes by longest prefix. Triggered by
// the workload's announcement, or by warplab when the driver reports the move complete.
import type { LabHandle } from '../../lab/handle.js';
import { realtimeNowMs } from '../../probe/clock.js';
import { settingsOf, type Topology, type WorkloadSpec } from '../../topology/model.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, NodeRules, SettingsReport } from '../strategy-types.js';
import type { NodeAction } from './listeners.js';
import { armPrepared } from './prepared-switch.js';
import { birdc, birdExtension, birdFilesOf } from './routing-update/daemons.js';
import { startFibMonitors } from './routing-update/fib.js';
import { announceProtocol, announcers, gatewaysAt, routersOf } from './routing-update/peers.js';
import { NAME, routingPlan, type RoutingUpdateData } from './routing-update/plan.js';
import { checkOverrides, checkSettings, parseSettings, settingsSchema, withOverrides, type RoutingUpdateSettings } from './routing-update/settings.js';

/** Each router's part on `go`: one birdc line, enabling or disabling the workload's static protocol. */
function actionsOf(lab: LabHandle, d: RoutingUpdateData): NodeAction[] {
  const line = (router: string, verb: 'enable' | 'disable') => ({
    node: router,
    detail: `${verb === 'enable' ? 'announce' : 'withdraw'} ${d.address}/32`,
    commands: [`birdc -s ${birdFilesOf(lab, router).socket} ${verb} ${d.protocol}`],
  });
  return [...d.withdraw.map((r) => line(r, 'disable')), ...d.announce.map((g) => line(g.router, 'enable'))];
}

/** `show route` of BIRD 2: `PREFIX  unicast [PROTO TIME from ADDR] * (PREF) [AS…]` then `\tvia ADDR on IF` / `\tdev IF`. */
export function ribRows(showRoute: string): string[][] {
  const rows: string[][] = [];
  let prefix = '';
  for (const l of showRoute.split('\n')) {
    const m = /^(\S+\/\d+)?\s+\w+ \[(\S+)[^\]]*\]( \*)? \((\d+)\)(?: \[(.*?)\])?/.exec(l);
    if (m) {
      prefix = m[1] ?? prefix;
      rows.push([prefix, m[2]!, m[3] ? 'best' : '', m[5] ?? '', '']);
      continue;
    }
    const hop = /^\s+(via \S+ on \S+|dev \S+)/.exec(l);
    if (hop && rows.length) rows.at(-1)![4] = hop[1]!;
  }
  return rows;
}

export class RoutingUpdate implements AddressStrategy<RoutingUpdateSettings, RoutingUpdateData> {
  readonly name = NAME;
  readonly summary = 'routing update: the gateway on the LAN a workload joins announces its /32 by BGP (BIRD on every router), the one it left withdraws it';
  readonly settingsSchema = settingsSchema;
  readonly extension = birdExtension;

  settings(raw: unknown): RoutingUpdateSettings {
    return parseSettings(raw);
  }

  check(t: Topology, _s: RoutingUpdateSettings, report: SettingsReport): void {
    checkSettings(t, report);
  }

  checkOverrides(_t: Topology, raw: unknown, report: SettingsReport): void {
    checkOverrides(raw, report);
  }

  plan(t: Topology, w: WorkloadSpec, from: string, to: string, _placement: unknown, overrides?: unknown): MovePlan<RoutingUpdateData> {
    return routingPlan(t, withOverrides(settingsOf(t, NAME), overrides), w, from, to);
  }

  /** The /32 announced by `hv`'s gateways and by no other router. */
  async place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]> {
    const here = gatewaysAt(lab.topology, w, hv).map((g) => g.router);
    const protocol = announceProtocol(w);
    return Promise.all(
      announcers(lab.topology, w).map(async (g) => {
        const verb = here.includes(g.router) ? 'enable' : 'disable';
        await birdc(lab, g.router, [verb, protocol]);
        return { node: g.router, action: verb === 'enable' ? 'announce' : 'withdraw', detail: `bgp ${w.ipv4.split('/')[0]}/32 (${verb} ${protocol})`, atMs: realtimeNowMs() };
      }),
    );
  }

  /** Per router: BIRD's routes for the workloads' /32s and the kernel's. */
  async rules(lab: LabHandle): Promise<NodeRules[]> {
    const addrs = lab.topology.workloads.map((w) => w.ipv4.split('/')[0]!);
    return Promise.all(
      routersOf(lab.topology).map(async (r) => {
        const rib = ribRows((await birdc(lab, r.name, ['show', 'route', 'where', 'net.len = 32'])).stdout);
        const fib = (JSON.parse((await lab.shell(r.name).exec(['ip', '-j', '-4', 'route', 'show'])).stdout) as { dst: string; gateway?: string; dev: string; protocol?: string }[]).filter((x) => addrs.includes(x.dst));
        return {
          node: r.name,
          strategy: NAME,
          tables: [
            { title: 'BIRD routes', header: ['PREFIX', 'FROM', 'BEST', 'AS PATH', 'NEXT HOP'], rows: rib },
            { title: 'kernel routes', header: ['ADDRESS', 'VIA', 'PROTO'], rows: fib.map((x) => [x.dst, x.gateway ? `via ${x.gateway} dev ${x.dev}` : `dev ${x.dev}`, x.protocol ?? '']) },
          ],
        };
      }),
    );
  }

  async arm(lab: LabHandle, p: MovePlan<RoutingUpdateData>, o: ArmOptions): Promise<Armed> {
    const d = p.data;
    // The first packet on the new path need not wait for an ARP exchange with a guest that has just resumed.
    await Promise.all(d.announce.map((g) => lab.shell(g.router).exec(['ip', 'neigh', 'replace', d.address, 'lladdr', d.mac, 'dev', g.iface, 'nud', 'reachable'])));
    // Every change to the /32 from now on is the move's.
    const armedAt = realtimeNowMs();
    const fib = await startFibMonitors(lab, o.dir, d.routers);
    let armed: Armed;
    try {
      armed = await armPrepared(lab, p, o, { prefix: 'ru', actions: actionsOf(lab, d), mac: d.mac, address: d.address });
    } catch (e) {
      fib.stop();
      throw e;
    }
    return {
      async settled(timeoutMs) {
        const outcome = await armed.settled(timeoutMs);
        const converged = await fib.collect(d.address, armedAt);
        for (const c of converged) o.events.add({ atMs: c.atMs, kind: 'network-changed', source: c.node, detail: `fib ${c.detail}` });
        return { ...outcome, changes: [...outcome.changes, ...converged] };
      },
      async disarm() {
        fib.stop();
        await armed.disarm();
      },
    };
  }
}
