// What the SSH substrate asks each host for, as plain data and exact command
// lines: namespaces and veths as the netns substrate plans them, and a VXLAN tunnel for
// whatever crosses hosts. Pure, so that unit tests read the commands without any host.
import { SubstrateError } from '../../errors.js';
import { crossingOf, lanHosts, linkCrossing } from '../../topology/hosts.js';
import type { HostSpec, Topology } from '../../topology/model.js';
import { nsName, wiresOf, type Wire, type WireEnd } from '../netns/plan.js';

/** IANA's VXLAN port. */
export const VXLAN_PORT = 4789;
export const MAX_VNI = 2 ** 24 - 1;
/** A spanning lan's tunnel inside its bridge namespace, beside the portN veths. */
export const LAN_TUNNEL = 'vxlan0';

/**
 * A tunnel end. Made in the host namespace as `device`, so that its socket stays on the
 * underlay, then moved into `ns` and renamed `ifname` (WireEnd's fields, for nodeBatch).
 */
export interface TunnelEnd extends WireEnd {
  host: string;
  /** This host's underlay address. */
  local: string;
  vni: number;
  /** wlvx + VNI: at most 12 characters, and unique on the host because VNIs are unique. */
  device: string;
}

/** A point-to-point link between nodes on two hosts: one VNI, one device at each end. */
export interface TunnelLink {
  vni: number;
  /** Index in the topology's links. */
  link: number;
  a: TunnelEnd;
  b: TunnelEnd;
  mtu: number;
}

/** A lan across hosts: its bridge namespace on each, joined by one VNI. */
export interface SpanningLan {
  vni: number;
  lan: string;
  /** One per host, in host declaration order. */
  ends: TunnelEnd[];
  mtu: number;
}

export interface HostPlan {
  host: HostSpec;
  /** The namespaces it carries: its nodes, and the bridge of every lan that spans it. */
  nodes: string[];
  /** veths with both ends here (linksBatch); the ports of a spanning lan at the tunnel MTU. */
  wires: Wire[];
  /** Its tunnel ends, for nodeBatch once they are in their namespaces. */
  tunnels: TunnelEnd[];
  /** In the host namespace, after the veths and before the nodes are configured. */
  commands: string[];
}

export interface SshPlan {
  /** In allocation order: the lab records them before it makes any tunnel. */
  vnis: { vni: number; what: string }[];
  links: TunnelLink[];
  lans: SpanningLan[];
  hosts: HostPlan[];
}

/**
 * Make, mark, move, rename; `remote` for a point-to-point tunnel, none for a lan's (its FDB
 * names the remotes). Marked at once: a crash before the move leaves it in the host
 * namespace, where `down` finds it by name and mark.
 */
function makeEnd(e: TunnelEnd, vni: number, mtu: number, mark: string, remote?: string): string[] {
  return [
    `ip link add ${e.device} mtu ${mtu} type vxlan id ${vni} local ${e.local}${remote ? ` remote ${remote}` : ''} dstport ${VXLAN_PORT} nolearning`,
    `ip link set ${e.device} alias ${mark}`,
    `ip link set ${e.device} netns ${e.ns}`,
    `ip -n ${e.ns} link set ${e.device} name ${e.ifname}`,
  ];
}

/**
 * The plan of a topology whose nodes are placed (the loader does it). VNIs are `vniBase`,
 * `vniBase + 1`, …: the cross-host links in file order, then the spanning lans in file order.
 */
export function sshPlan(t: Topology, vniBase: number, mark: string): SshPlan {
  const hosts = t.hosts;
  if (!hosts) throw new SubstrateError(`${t.name} declares no hosts`);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  const hostOf = (node: string): HostSpec => {
    const h = byName.get(nodes.get(node)?.host ?? '');
    if (!h) throw new SubstrateError(`${node} is on no host of ${t.name}: load the topology with the loader, which places every node`);
    return h;
  };
  if (!Number.isInteger(vniBase) || vniBase < 1) throw new SubstrateError(`VNI base ${vniBase} is not a VNI (1-${MAX_VNI})`);
  const vnis: SshPlan['vnis'] = [];
  const allocate = (what: string) => {
    const vni = vniBase + vnis.length;
    if (vni > MAX_VNI) throw new SubstrateError(`${t.name} needs VNIs from ${vniBase} past ${MAX_VNI}, the largest: choose a lower base`);
    vnis.push({ vni, what });
    return vni;
  };
  const end = (h: HostSpec, node: string, ifname: string, vni: number): TunnelEnd => ({ host: h.name, local: h.address, ns: nsName(t.name, node), node, ifname, vni, device: `wlvx${vni}` });

  const isLan = (node: string) => nodes.get(node)?.kind === 'lan';
  const wires = wiresOf(t);
  const links: TunnelLink[] = [];
  const veths: { host: string; wire: Wire }[] = [];
  t.links.forEach((l, i) => {
    const c = linkCrossing(t, l);
    if (c && !isLan(l.a.node) && !isLan(l.b.node)) {
      const vni = allocate(`links[${i}]`);
      links.push({ vni, link: i, a: end(hostOf(l.a.node), l.a.node, l.a.iface!, vni), b: end(hostOf(l.b.node), l.b.node, l.b.iface!, vni), mtu: l.mtu ?? c.mtu });
      return;
    }
    // A lan has a bridge on every host it spans: a member's veth stays on the member's host.
    const member = isLan(l.a.node) ? l.b.node : l.a.node;
    const w = wires[i]!;
    veths.push({ host: hostOf(member).name, wire: c && !w.mtu ? { ...w, mtu: c.mtu } : w });
  });
  const lans = t.nodes.flatMap((n): SpanningLan[] => {
    const c = n.kind === 'lan' ? crossingOf(t, lanHosts(t, n.name)) : undefined;
    if (!c) return [];
    const vni = allocate(`lan ${n.name}`);
    return [{ vni, lan: n.name, ends: c.hosts.map((h) => end(byName.get(h)!, n.name, LAN_TUNNEL, vni)), mtu: c.mtu }];
  });

  const ends = [
    ...links.flatMap((k) => [
      { end: k.a, commands: makeEnd(k.a, k.vni, k.mtu, mark, k.b.local) },
      { end: k.b, commands: makeEnd(k.b, k.vni, k.mtu, mark, k.a.local) },
    ]),
    // Head-end replication: one all-zero FDB entry per remote host floods to all of them.
    ...lans.flatMap((s) =>
      s.ends.map((e) => ({
        end: e,
        commands: [...makeEnd(e, s.vni, s.mtu, mark), ...s.ends.filter((r) => r !== e).map((r) => `bridge -n ${e.ns} fdb append 00:00:00:00:00:00 dev ${e.ifname} dst ${r.local}`)],
      })),
    ),
  ];
  return {
    vnis,
    links,
    lans,
    hosts: hosts.map((h) => {
      const here = ends.filter((x) => x.end.host === h.name);
      return {
        host: h,
        nodes: t.nodes.filter((n) => n.host === h.name || here.some((x) => x.end.node === n.name && isLan(n.name))).map((n) => n.name),
        wires: veths.filter((v) => v.host === h.name).map((v) => v.wire),
        tunnels: here.map((x) => x.end),
        commands: here.flatMap((x) => x.commands),
      };
    }),
  };
}
