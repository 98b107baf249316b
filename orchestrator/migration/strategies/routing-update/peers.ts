// Who talks BGP with whom, and who announces a workload: computed from the topology alone.
// eBGP with one private AS per router: every session is between direct neighbours, so no
// route reflection or IGP for next hops is needed, and BIRD sends updates without delay.
import { contains, formatAddr, network, parseCidr } from '../../../topology/ipv4.js';
import { isRouter, nodeByName, type NodeSpec, type Topology, type WorkloadSpec } from '../../../topology/model.js';
import { segmentsOf } from '../../../topology/segments.js';
import { workloadPort } from '../../../topology/workloads.js';

/** The first of the 16-bit private AS numbers (RFC 6996); router k gets FIRST_AS + k. */
export const FIRST_AS = 64601;

export interface BgpSession {
  peer: string;
  /** This router's interface and address toward the peer. */
  iface: string;
  local: string;
  address: string;
  peerAs: number;
}

export interface BgpSpeaker {
  router: string;
  as: number;
  routerId: string;
  sessions: BgpSession[];
}

/** A router on a workload's LAN with an address in its subnet: it announces the workload's /32 there. */
export interface Gateway {
  router: string;
  iface: string;
}

/** Routers sharing a segment but no subnet: they cannot peer. */
export interface Unpeerable {
  router: string;
  peer: string;
  iface: string;
}

export const routersOf = (t: Topology): NodeSpec[] => t.nodes.filter((n) => isRouter(n.kind));

export function bgpSpeakers(t: Topology): { speakers: BgpSpeaker[]; unpeerable: Unpeerable[] } {
  const routers = routersOf(t);
  const asOf = new Map(routers.map((r, k) => [r.name, FIRST_AS + k]));
  const speakers = routers.map((r): BgpSpeaker => ({ router: r.name, as: asOf.get(r.name)!, routerId: r.interfaces.flatMap((i) => i.ipv4)[0]?.split('/')[0] ?? '0.0.0.0', sessions: [] }));
  const unpeerable: Unpeerable[] = [];
  for (const seg of segmentsOf(t)) {
    const members = seg.members.filter((m) => isRouter(m.node.kind));
    for (const a of members) {
      for (const b of members) {
        if (a.node === b.node) continue;
        // Same network and length on both ends; the papers' shared DC gateway address is no peer.
        const pair = a.addrs.flatMap((x) => b.addrs.filter((y) => y.len === x.len && network(y) === network(x) && y.addr !== x.addr).map((y) => [x, y] as const))[0];
        if (!pair) {
          unpeerable.push({ router: a.node.name, peer: b.node.name, iface: a.iface });
          continue;
        }
        speakers.find((s) => s.router === a.node.name)!.sessions.push({ peer: b.node.name, iface: a.iface, local: formatAddr(pair[0].addr), address: formatAddr(pair[1].addr), peerAs: asOf.get(b.node.name)! });
      }
    }
  }
  return { speakers, unpeerable };
}

/** Every router that may announce `w`: an address in its subnet (where it can be the workload's gateway). */
export function announcers(t: Topology, w: WorkloadSpec): Gateway[] {
  const addr = parseCidr(w.ipv4)!.addr;
  return routersOf(t).flatMap((r) => r.interfaces.filter((i) => i.ipv4.some((a) => contains(parseCidr(a)!, addr))).slice(0, 1).map((i) => ({ router: r.name, iface: i.name })));
}

/** The routers that announce `w` while it runs on `hv`: its gateways on the LAN of hv's port. */
export function gatewaysAt(t: Topology, w: WorkloadSpec, hv: string): Gateway[] {
  const node = nodeByName(t, hv);
  const port = node && workloadPort(node, w);
  if (!port) return [];
  const seg = segmentsOf(t).find((s) => s.members.some((m) => m.node === node && m.iface === port));
  const addr = parseCidr(w.ipv4)!.addr;
  return (seg?.members ?? []).filter((m) => isRouter(m.node.kind) && m.addrs.some((c) => contains(c, addr))).map((m) => ({ router: m.node.name, iface: m.iface }));
}

/** A BIRD symbol from a node or workload name (letters, digits, underscores). */
export const symbol = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_');

/** The static protocol that holds `w`'s /32 on every router that may announce it. */
export const announceProtocol = (w: WorkloadSpec) => `wl_${symbol(w.name)}`;
