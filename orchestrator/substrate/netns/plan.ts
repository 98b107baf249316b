// What the netns substrate asks the kernel for, as plain text: `ip -batch` lines and sysctls.
// Kept pure so that unit tests can read the exact commands without root.
import { isRouter, type LinkParams, type NodeSpec, type Topology } from '../../topology/model.js';
import { tcArgv } from './linkparams.js';

export function nsName(lab: string, node: string): string {
  return `wl-${lab}-${node}`;
}

export const BRIDGE = 'br0';

export interface WireEnd {
  ns: string;
  node: string;
  ifname: string;
}

/** A veth pair: one end per namespace. Lan ends are bridge ports named portN. */
export interface Wire {
  a: WireEnd;
  b: WireEnd;
  mtu?: number;
  /** bw/delay/loss/max_queue_size, applied at both ends. */
  params?: LinkParams;
}

export function wiresOf(t: Topology): Wire[] {
  const kinds = new Map(t.nodes.map((n) => [n.name, n.kind]));
  const ports = new Map<string, number>();
  return t.links.map((l) => {
    const end = (e: typeof l.a) => {
      if (kinds.get(e.node) !== 'lan') return { ns: nsName(t.name, e.node), node: e.node, ifname: e.iface! };
      const n = (ports.get(e.node) ?? 0) + 1;
      ports.set(e.node, n);
      return { ns: nsName(t.name, e.node), node: e.node, ifname: `port${n}` };
    };
    return { a: end(l.a), b: end(l.b), ...(l.mtu ? { mtu: l.mtu } : {}), ...(l.params ? { params: l.params } : {}) };
  });
}

export function namespacesBatch(t: Topology): string {
  return t.nodes.map((n) => `netns add ${nsName(t.name, n.name)}\n`).join('');
}

/** Each veth is created with both ends already in their namespaces: nothing touches the root namespace. */
export function linksBatch(wires: Wire[]): string {
  return wires
    .map((w) => `link add ${w.a.ifname} netns ${w.a.ns}${w.mtu ? ` mtu ${w.mtu}` : ''} type veth peer name ${w.b.ifname} netns ${w.b.ns}${w.mtu ? ` mtu ${w.mtu}` : ''}\n`)
    .join('');
}

/** sysctls set in the node's namespace before its links come up. */
export function sysctlsOf(n: NodeSpec): Record<string, string> {
  return {
    // No IPv6: the papers' networks are IPv4, and DAD/RS chatter would blur measured gaps.
    'net/ipv6/conf/all/disable_ipv6': '1',
    'net/ipv6/conf/default/disable_ipv6': '1',
    'net/ipv4/ip_forward': isRouter(n.kind) ? '1' : '0',
  };
}

/**
 * Everything `ip -batch` does inside one node's namespace, in order. `tunnels`: ends of
 * VXLAN tunnels moved into namespaces (SSH substrate), configured like veth ends.
 */
export function nodeBatch(n: NodeSpec, wires: Wire[], mark: string, tunnels: WireEnd[] = []): string {
  const lines = [`link set lo alias ${mark}`, 'link set lo up'];
  const mine = [...wires.flatMap((w) => [w.a, w.b]), ...tunnels].filter((e) => e.node === n.name);
  if (n.kind === 'lan') {
    lines.push(`link add ${BRIDGE} type bridge`, `link set ${BRIDGE} alias ${mark}`, `link set ${BRIDGE} up`);
    for (const p of mine) lines.push(`link set ${p.ifname} alias ${mark}`, `link set ${p.ifname} master ${BRIDGE}`, `link set ${p.ifname} up`);
  } else {
    for (const itf of n.interfaces) {
      if (!mine.some((e) => e.ifname === itf.name)) continue;
      if (itf.mac) lines.push(`link set dev ${itf.name} address ${itf.mac}`);
      if (itf.mtu) lines.push(`link set dev ${itf.name} mtu ${itf.mtu}`);
      lines.push(`link set dev ${itf.name} alias ${mark}`);
      for (const a of itf.ipv4) lines.push(`addr add ${a} dev ${itf.name}`);
      lines.push(`link set dev ${itf.name} up`);
    }
    for (const r of n.routes) lines.push(`route add ${r.to} via ${r.via} proto static`);
  }
  return lines.map((l) => l + '\n').join('');
}

/** tc commands shaping this node's ends of links that have parameters (run after nodeBatch). */
export function nodeTc(n: NodeSpec, wires: Wire[]): string[][] {
  return wires.flatMap((w) => [w.a, w.b].filter((e) => e.node === n.name).flatMap((e) => tcArgv(e.ifname, w.params)));
}
