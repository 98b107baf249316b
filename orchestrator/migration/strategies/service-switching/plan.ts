// A service-switching move as data: the difference between every switch's state before and
// after, the gratuitous ARPs that fix the neighbours' caches, and the ARP entry primed at the
// destination. Pure: unit tests check it, `migrate --dry-run` prints it.
import { LabError } from '../../../errors.js';
import { contains, parseAddr, parseCidr } from '../../../topology/ipv4.js';
import type { Topology, WorkloadSpec } from '../../../topology/model.js';
import type { MovePlan, Placement, PlannedChange, Trigger } from '../../strategy-types.js';
import { homeAddress, networkOfAddress, type ServiceSwitchingSettings } from './settings.js';
import { switchStates, whereabouts, type SwitchState } from './state.js';

export const TABLE = 'warplab_ss';

/** A MAC given, or the one a node's interface has (read when the move is armed). */
export type MacSource = { mac: string } | { node: string; iface: string };

export interface Garp {
  /** The service switch that sends it, on its LAN interface. */
  node: string;
  iface: string;
  /** Address → the MAC its neighbours should use from now on; absent: the sender's own (it answers by proxy). */
  announce: { ip: string; mac?: MacSource; why: string }[];
}

export interface NodeUpdate {
  node: string;
  /** `nft -f` input: the maps' whole new content, one transaction. */
  nft: string;
  /** `ip -force -batch` lines: host routes added, changed, removed. */
  routes: string[];
}

export interface ServiceSwitchingData {
  address: string;
  mac: string;
  updates: NodeUpdate[];
  garps: Garp[];
  /** The switch on the destination LAN learns the workload's MAC before it arrives. */
  prime?: { node: string; iface: string };
}

const MAPS = [
  ['dst', 'daddr_in', 'every ingress'],
  ['srcBack', 'saddr_back', 'every egress'],
  ['srcOut', 'saddr_out', 'toward the core'],
  ['srcHome', 'saddr_home', 'toward the home network'],
] as const;

export function nftScript(st: SwitchState): string {
  return MAPS.map(([key, map]) => {
    const els = Object.entries(st[key]).map(([a, b]) => `${a} : ${b}`);
    return `flush map ip ${TABLE} ${map}\n${els.length ? `add element ip ${TABLE} ${map} { ${els.join(', ')} }\n` : ''}`;
  }).join('');
}

function diff(node: string, before: SwitchState, after: SwitchState): { changes: PlannedChange[]; routes: string[] } {
  const changes: PlannedChange[] = [];
  for (const [key, , scope] of MAPS) {
    const field = key === 'dst' ? 'dst' : 'src';
    for (const [a, b] of Object.entries(after[key])) if (before[key][a] !== b) changes.push({ node, action: 'nat', detail: `${field} ${a} → ${b} (${scope})` });
    for (const [a, b] of Object.entries(before[key])) if (!(a in after[key])) changes.push({ node, action: 'nat-remove', detail: `${field} ${a} → ${b} (${scope})` });
  }
  const routes: string[] = [];
  for (const [a, how] of Object.entries(after.routes)) {
    if (before.routes[a] === how) continue;
    routes.push(`route replace ${a}/32 ${how}`);
    changes.push({ node, action: 'route', detail: `${a}/32 ${how}` });
  }
  for (const [a, how] of Object.entries(before.routes)) {
    if (a in after.routes) continue;
    routes.push(`route del ${a}/32`);
    changes.push({ node, action: 'route-remove', detail: `${a}/32 ${how}` });
  }
  return { changes, routes };
}

/** Addresses of `w`'s home network that its neighbours may have cached, with who owns each. */
function homeNeighbours(t: Topology, w: WorkloadSpec): { ip: string; owner: { node: string; iface: string } | { workload: WorkloadSpec } }[] {
  const home = parseCidr(w.ipv4)!;
  const inHome = (a: string) => contains(home, parseAddr(a.split('/')[0]!)!);
  return [
    ...t.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.ipv4.filter(inHome).map((a) => ({ ip: a.split('/')[0]!, owner: { node: n.name, iface: i.name } })))),
    ...t.workloads.filter((x) => x !== w && inHome(x.ipv4)).map((x) => ({ ip: homeAddress(x), owner: { workload: x } })),
  ];
}

export function servicePlan(t: Topology, s: ServiceSwitchingSettings, w: WorkloadSpec, from: string, to: string, placement: Placement, trigger: Trigger = s.trigger): MovePlan<ServiceSwitchingData> {
  const before = { ...placement, [w.name]: from };
  const after = { ...placement, [w.name]: to };
  const there = whereabouts(t, s, w, to);
  const here = whereabouts(t, s, w, from);
  if (!there || !here) {
    const care = s.careOf[w.name] ?? [];
    throw new LabError(`${to} cannot host ${w.name} with service switching: none of its networks holds ${w.name}'s home address ${w.ipv4}${care.length ? ` or its care-of ${care.join(', ')}` : ' and it has no care-of address (migration.service-switching.care-of)'}`);
  }
  const s0 = switchStates(t, s, before);
  const s1 = switchStates(t, s, after);
  const changes: PlannedChange[] = [];
  const updates: NodeUpdate[] = [];
  for (const [node, st] of s1) {
    const d = diff(node, s0.get(node)!, st);
    if (!d.changes.length) continue;
    changes.push(...d.changes);
    updates.push({ node, nft: nftScript(st), routes: d.routes });
  }

  // The LAN the workload joins, and the one it leaves: the switch there announces what changed hands.
  const m = homeAddress(w);
  const homeSw = networkOfAddress(t, m)!.switches[0]!;
  const lanSwitch = (wh: NonNullable<typeof there>) => (wh.at === 'home' ? homeSw : networkOfAddress(t, wh.careOf)!.switches[0]!);
  const dest = lanSwitch(there);
  const src = lanSwitch(here);
  const sameLan = (x: WorkloadSpec) => whereabouts(t, s, x, after[x.name] ?? x.on)?.seg.id === there.seg.id;
  const announce: Garp['announce'] = [{ ip: m, mac: { mac: w.mac }, why: `${w.name} is here now` }];
  for (const n of homeNeighbours(t, w)) {
    if ('workload' in n.owner) {
      const x = n.owner.workload;
      announce.push(sameLan(x) ? { ip: n.ip, mac: { mac: x.mac }, why: `${x.name} is on this LAN` } : { ip: n.ip, why: `${dest.node} answers for ${x.name}` });
    } else {
      const local = there.seg.members.some((mm) => mm.node.name === (n.owner as { node: string }).node);
      announce.push(local ? { ip: n.ip, mac: n.owner, why: `${n.owner.node} is on this LAN` } : { ip: n.ip, why: `${dest.node} answers for ${n.owner.node}` });
    }
  }
  const garps: Garp[] = [{ node: dest.node, iface: dest.iface, announce }];
  if (src.node !== dest.node || src.iface !== dest.iface) garps.push({ node: src.node, iface: src.iface, announce: [{ ip: m, why: `${src.node} answers for ${w.name} here now` }] });
  for (const g of garps) {
    changes.push({ node: g.node, action: 'garp', detail: `on ${g.iface}: ${g.announce.map((a) => `${a.ip} (${a.mac ? ('mac' in a.mac ? a.mac.mac : `${a.mac.node}'s MAC`) : 'own MAC'})`).join(', ')}` });
  }
  changes.unshift({ node: dest.node, action: 'neigh', detail: `${m} lladdr ${w.mac} dev ${dest.iface}`, when: 'arm' });

  const hv = t.nodes.find((n) => n.name === to)!;
  const portNet = there.at === 'home' ? parseCidr(w.ipv4)! : parseCidr(`${there.careOf}/32`)!;
  const port = hv.interfaces.find((i) => i.ipv4.some((a) => { const c = parseCidr(a)!; return contains(c, portNet.addr); }))!.name;
  return {
    strategy: 'service-switching',
    workload: w.name,
    from,
    to,
    trigger,
    port,
    changes,
    data: { address: m, mac: w.mac, updates, garps, prime: { node: dest.node, iface: dest.iface } },
  };
}
