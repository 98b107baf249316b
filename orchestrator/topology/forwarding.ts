// Predicts what plain IPv4 forwarding does on the model: which hosts a ping connects.
// Tests compare this prediction with pings in the real lab, so both must agree.
import { contains, formatAddr, parseAddr, parseCidr, type Cidr } from './ipv4.js';
import { isRouter, type NodeSpec, type Topology } from './model.js';
import { segmentsOf, type Member, type Segment } from './segments.js';

export interface Delivery {
  ok: boolean;
  /** Nodes visited, source first. */
  path: string[];
  /** Why it stopped, when not delivered. */
  reason?: string;
  /** Source address the first hop would put on the packet. */
  source?: string;
}

interface Hop {
  prefix: Cidr;
  via?: number;
}

export class ForwardingModel {
  private readonly segments: Segment[];
  constructor(private readonly t: Topology) {
    this.segments = segmentsOf(t);
  }

  private attachments(n: NodeSpec): { m: Member; seg: Segment }[] {
    return this.segments.flatMap((seg) => seg.members.filter((m) => m.node === n).map((m) => ({ m, seg })));
  }

  private owns(n: NodeSpec, addr: number): boolean {
    return this.attachments(n).some(({ m }) => m.addrs.some((c) => c.addr === addr));
  }

  /** Longest-prefix match over connected subnets and static routes, like the kernel's main table. */
  private lookup(n: NodeSpec, dst: number): Hop | undefined {
    const hops: Hop[] = this.attachments(n).flatMap(({ m }) => m.addrs.map((c) => ({ prefix: c })));
    for (const r of n.routes) {
      const prefix = r.to === 'default' ? { addr: 0, len: 0 } : parseCidr(r.to)!;
      hops.push({ prefix, via: parseAddr(r.via)! });
    }
    return hops.filter((h) => contains(h.prefix, dst)).sort((a, b) => b.prefix.len - a.prefix.len)[0];
  }

  /** The neighbour owning `addr` on a segment where `n` has a subnet containing it. */
  private neighbour(n: NodeSpec, addr: number): { node: NodeSpec; egress: Cidr } | undefined {
    for (const { m, seg } of this.attachments(n)) {
      const egress = m.addrs.find((c) => contains(c, addr));
      if (!egress) continue;
      const peer = seg.members.find((x) => x.node !== n && x.addrs.some((c) => c.addr === addr));
      if (peer) return { node: peer.node, egress };
    }
    return undefined;
  }

  deliver(from: string, to: string): Delivery {
    const dst = parseAddr(to)!;
    let cur = this.t.nodes.find((n) => n.name === from)!;
    const path = [cur.name];
    let source: string | undefined;
    for (let ttl = 64; ttl > 0; ttl--) {
      if (this.owns(cur, dst)) return { ok: true, path, source };
      if (path.length > 1 && !isRouter(cur.kind)) return { ok: false, path, reason: `${cur.name} does not forward` };
      const hop = this.lookup(cur, dst);
      if (!hop) return { ok: false, path, reason: `${cur.name} has no route to ${to}` };
      const next = this.neighbour(cur, hop.via ?? dst);
      if (!next) return { ok: false, path, reason: `${cur.name}: no neighbour answers ARP for ${formatAddr(hop.via ?? dst)}` };
      source ??= formatAddr(next.egress.addr);
      cur = next.node;
      path.push(cur.name);
    }
    return { ok: false, path, reason: 'TTL exceeded (routing loop)' };
  }

  /** A ping works when the request arrives and the reply finds its way back. */
  ping(from: string, to: string): Delivery {
    const there = this.deliver(from, to);
    if (!there.ok) return there;
    const target = this.t.nodes.find((n) => n.name === there.path[there.path.length - 1])!;
    const back = this.deliver(target.name, there.source!);
    if (back.ok && back.path[back.path.length - 1] === from) return there;
    const reason = back.ok ? `reply goes to ${back.path[back.path.length - 1]}, which has the same address` : back.reason;
    return { ok: false, path: [...there.path, ...back.path.slice(1)], reason: `reply lost: ${reason}` };
  }
}

/** Endpoints of the reachability matrix: hosts and hypervisors, by their first address. */
export function endHosts(t: Topology): { node: string; addr: string }[] {
  return t.nodes
    .filter((n) => n.kind === 'host' || n.kind === 'hypervisor')
    .flatMap((n) => {
      const a = n.interfaces.flatMap((i) => i.ipv4)[0];
      return a ? [{ node: n.name, addr: a.split('/')[0]! }] : [];
    });
}
