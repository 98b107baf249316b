// A routing-update move as data: the source's gateways withdraw the workload's /32, the
// destination's announce it (BIRD static protocols toggled with birdc), and the destination's
// gateways learn the workload's MAC beforehand. Pure: unit tests check it, `migrate
// --dry-run` prints it.
import { LabError } from '../../../errors.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../../topology/model.js';
import { workloadPort } from '../../../topology/workloads.js';
import type { MovePlan, PlannedChange } from '../../strategy-types.js';
import { announceProtocol, gatewaysAt, routersOf, type Gateway } from './peers.js';
import type { RoutingUpdateSettings } from './settings.js';

export interface RoutingUpdateData {
  address: string;
  mac: string;
  /** The BIRD static protocol holding the /32 on its announcers. */
  protocol: string;
  withdraw: string[];
  announce: Gateway[];
  /** Every router: their FIBs are watched for the /32 to time the convergence. */
  routers: string[];
}

export const NAME = 'routing-update';

export function routingPlan(t: Topology, s: RoutingUpdateSettings, w: WorkloadSpec, from: string, to: string): MovePlan<RoutingUpdateData> {
  const hv = nodeByName(t, to);
  const port = hv && workloadPort(hv, w);
  const announce = gatewaysAt(t, w, to);
  if (!port || !announce.length) throw new LabError(`${to} cannot host ${w.name} with routing-update: ${port ? `no router on ${to}:${port}'s LAN has an address in ${w.ipv4}` : `it has no interface in ${w.ipv4}`}`);
  const address = w.ipv4.split('/')[0]!;
  const protocol = announceProtocol(w);
  const withdraw = gatewaysAt(t, w, from).map((g) => g.router).filter((r) => !announce.some((g) => g.router === r));
  const changes: PlannedChange[] = [
    ...announce.map((g): PlannedChange => ({ node: g.router, action: 'neigh', detail: `${address} lladdr ${w.mac} dev ${g.iface}`, when: 'arm' })),
    ...withdraw.map((r): PlannedChange => ({ node: r, action: 'withdraw', detail: `bgp ${address}/32 (disable ${protocol})` })),
    ...announce.map((g): PlannedChange => ({ node: g.router, action: 'announce', detail: `bgp ${address}/32 (enable ${protocol})` })),
  ];
  return {
    strategy: NAME,
    workload: w.name,
    from,
    to,
    trigger: s.trigger,
    port,
    changes,
    data: { address, mac: w.mac, protocol, withdraw, announce, routers: routersOf(t).map((r) => r.name) },
  };
}
