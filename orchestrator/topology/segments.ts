// An L2 segment is a point-to-point link, or a lan node with everything linked to it.
import { parseCidr, type Cidr } from './ipv4.js';
import type { NodeSpec, Topology } from './model.js';

export interface Member {
  node: NodeSpec;
  iface: string;
  addrs: Cidr[];
  /** Index of the link that attaches this member. */
  link: number;
}

export interface Segment {
  /** "links[3]" or the lan's name. */
  id: string;
  lan?: NodeSpec;
  members: Member[];
}

/**
 * The topology's segments. `joined`: groups of lans that are one segment at lab time (a
 * strategy's L2 overlay bridges them), merged under the group's names joined by `+`.
 */
export function segmentsOf(t: Topology, joined: readonly string[][] = []): Segment[] {
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  const lans = new Map<string, Segment>();
  const segments: Segment[] = [];
  for (const n of t.nodes) {
    if (n.kind === 'lan') {
      const s: Segment = { id: n.name, lan: n, members: [] };
      lans.set(n.name, s);
      segments.push(s);
    }
  }
  t.links.forEach((l, i) => {
    const member = (e: typeof l.a): Member | undefined => {
      const node = nodes.get(e.node);
      if (!node || node.kind === 'lan' || !e.iface) return undefined;
      const spec = node.interfaces.find((x) => x.name === e.iface);
      if (!spec) return undefined; // reported by the checks as an unknown interface
      return { node, iface: e.iface, addrs: spec.ipv4.flatMap((a) => parseCidr(a) ?? []), link: i };
    };
    const lan = lans.get(l.a.node) ?? lans.get(l.b.node);
    const ends = [member(l.a), member(l.b)].filter((m): m is Member => !!m);
    if (lan) lan.members.push(...ends);
    else segments.push({ id: `links[${i}]`, members: ends });
  });
  for (const group of joined) {
    const parts = segments.filter((x) => x.lan && group.includes(x.lan.name));
    if (parts.length < 2) continue;
    parts[0]!.id = parts.map((x) => x.id).join('+');
    parts[0]!.members = parts.flatMap((x) => x.members);
    for (const x of parts.slice(1)) segments.splice(segments.indexOf(x), 1);
  }
  return segments;
}
