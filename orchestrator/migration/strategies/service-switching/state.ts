// What every service switch holds for a given placement of the workloads, computed from the
// topology alone: the whole state, not a delta, so applying it is idempotent and a plan is
// the difference between the state before and after a move.
import { ForwardingModel } from '../../../topology/forwarding.js';
import { contains, parseAddr, parseCidr } from '../../../topology/ipv4.js';
import { isRouter, nodeByName, type Topology, type WorkloadSpec } from '../../../topology/model.js';
import type { Segment } from '../../../topology/segments.js';
import { homeAddress, networkOfAddress, type ServiceSwitchingSettings } from './settings.js';

/** Where a workload is, as service switching sees it. */
export type Whereabouts = { at: 'home'; seg: Segment } | { at: 'away'; seg: Segment; careOf: string };

/** One router's translation tables and host routes. */
export interface SwitchState {
  /** Destination rewrites on every ingress (home and edge: home → care-of; foreign: care-of → home). */
  dst: Record<string, string>;
  /** Source rewrites on every egress (home and edge: care-of → home). */
  srcBack: Record<string, string>;
  /** Source rewrites toward the core, not onto the foreign LAN (foreign: home → care-of). */
  srcOut: Record<string, string>;
  /** The same, only toward the home networks: without edge switches nobody else would undo it. */
  srcHome: Record<string, string>;
  /** Host routes: address → `dev IF` or `via ADDR`. */
  routes: Record<string, string>;
}

/** What a router is for the whole lab: set up once when the lab comes up. */
export interface SwitchRole {
  node: string;
  /** Its interfaces on LANs where it answers ARP for others (home or foreign). */
  lanIfs: string[];
  /** As a foreign switch: its foreign LAN interfaces (source rewrites stop there). */
  foreignIfs: string[];
  /** As a foreign switch: the home networks of the workloads that may come (for `srcHome`). */
  homes: string[];
}

export const emptyState = (): SwitchState => ({ dst: {}, srcBack: {}, srcOut: {}, srcHome: {}, routes: {} });

function homeOf(t: Topology, w: WorkloadSpec) {
  const h = networkOfAddress(t, homeAddress(w))!;
  return { ...h, sw: h.switches[0]! };
}

/** Where `w` is when it runs on `hv`: on its home network, or away at one of its care-of addresses. */
export function whereabouts(t: Topology, s: ServiceSwitchingSettings, w: WorkloadSpec, hv: string): Whereabouts | undefined {
  const node = nodeByName(t, hv);
  const nets = (node?.interfaces ?? []).flatMap((i) => i.ipv4.flatMap((a) => parseCidr(a) ?? []));
  const home = homeOf(t, w);
  if (nets.some((c) => contains(c, parseAddr(homeAddress(w))!))) return { at: 'home', seg: home.seg };
  const careOf = (s.careOf[w.name] ?? []).find((a) => nets.some((c) => contains(c, parseAddr(a)!)));
  return careOf ? { at: 'away', seg: networkOfAddress(t, careOf)!.seg, careOf } : undefined;
}

export function roles(t: Topology, s: ServiceSwitchingSettings): SwitchRole[] {
  const out = new Map<string, SwitchRole>();
  const role = (node: string) => out.get(node) ?? out.set(node, { node, lanIfs: [], foreignIfs: [], homes: [] }).get(node)!;
  const add = (list: string[], x: string) => list.includes(x) || list.push(x);
  for (const [name, addrs] of Object.entries(s.careOf)) {
    const w = t.workloads.find((x) => x.name === name)!;
    const home = homeOf(t, w);
    add(role(home.sw.node).lanIfs, home.sw.iface);
    for (const a of addrs) {
      const f = networkOfAddress(t, a)!.switches[0]!;
      const r = role(f.node);
      add(r.lanIfs, f.iface);
      add(r.foreignIfs, f.iface);
      add(r.homes, home.prefix);
    }
  }
  // Any router may become an edge switch through a move's overrides.
  for (const n of t.nodes.filter((x) => isRouter(x.kind))) role(n.name);
  return [...out.values()];
}

/** Every switch's state when the workloads are where `placement` says. */
export function switchStates(t: Topology, s: ServiceSwitchingSettings, placement: Record<string, string>): Map<string, SwitchState> {
  const states = new Map(roles(t, s).map((r) => [r.node, emptyState()]));
  const fwd = new ForwardingModel(t);
  for (const w of t.workloads) {
    const where = whereabouts(t, s, w, placement[w.name] ?? w.on);
    if (where?.at !== 'away') continue;
    const m = homeAddress(w);
    const c = where.careOf;
    const home = homeOf(t, w);
    const foreign = networkOfAddress(t, c)!.switches[0]!;
    for (const node of new Set([home.sw.node, ...s.edge])) {
      const st = states.get(node)!;
      st.dst[m] = c;
      st.srcBack[c] = m;
    }
    // A host route away from the home LAN makes the home switch's proxy ARP answer for M there.
    const toward = fwd.route(home.sw.node, c)!;
    states.get(home.sw.node)!.routes[m] = toward.via ? `via ${toward.via}` : `dev ${toward.iface}`;
    const f = states.get(foreign.node)!;
    f.dst[c] = m;
    (s.edge.length ? f.srcOut : f.srcHome)[m] = c;
    f.routes[m] = `dev ${foreign.iface}`;
  }
  return states;
}
