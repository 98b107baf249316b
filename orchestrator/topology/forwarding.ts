// Predicts what IPv4 forwarding and the edge translators do on the model: which hosts a
// ping connects. Tests compare this prediction with pings in the real lab.
import { contains, formatAddr, network, parseAddr, parseCidr, type Cidr } from './ipv4.js';
import { isRouter, type NodeSpec, type Topology } from './model.js';
import { segmentsOf, type Member, type Segment } from './segments.js';
import { applySteps, stepsOf } from '../translator/mapping.js';
import type { PageSpec } from './model.js';

export interface Delivery {
  ok: boolean;
  /** Nodes visited, source first. */
  path: string[];
  /** Why it stopped, when not delivered. */
  reason?: string;
  /** Addresses as the receiver sees them. */
  seen?: { src: string; dst: string };
}

interface Hop {
  prefix: Cidr;
  via?: number;
}

/** Translate one address by longest-prefix match over one side of the pages; undefined: no rule. */
export function translateAddress(pages: PageSpec[], addr: number, fromLan: boolean): number | undefined {
  const sides = pages.map((p) => {
    const lan = parseCidr(p.lan)!;
    const wan = parseCidr(p.wan ?? p.lan)!;
    return { p, from: fromLan ? lan : wan, to: fromLan ? wan : lan };
  });
  const hit = sides.filter((s) => contains(s.from, addr)).sort((a, b) => b.from.len - a.from.len)[0];
  if (!hit) return undefined;
  const bits = 32 - hit.from.len;
  const steps = stepsOf(hit.p.wan ? hit.p.mapping : { kind: 'contiguous' }, bits);
  const host = (addr - network(hit.from)) >>> 0;
  return (network(hit.to) + applySteps(fromLan ? steps.forward : steps.inverse, host, bits)) >>> 0;
}

export class ForwardingModel {
  private readonly segments: Segment[];
  /** `joined`: lans a strategy bridges into one segment for the whole lab (segmentsOf). */
  constructor(private readonly t: Topology, joined: readonly string[][] = []) {
    this.segments = segmentsOf(t, joined);
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

  /** The kernel's route from `node` toward `dst`: the next hop (none when on-link) and the egress interface. */
  route(node: string, dst: string): { via?: string; iface: string } | undefined {
    const n = this.t.nodes.find((x) => x.name === node);
    const d = parseAddr(dst);
    if (!n || d === undefined) return undefined;
    const hop = this.lookup(n, d);
    const target = hop?.via ?? d;
    const out = hop && this.attachments(n).find(({ m }) => m.addrs.some((c) => contains(c, target)));
    return out ? { ...(hop.via !== undefined ? { via: formatAddr(hop.via) } : {}), iface: out.m.iface } : undefined;
  }

  /** The neighbour member owning `addr` on a segment where `n` has a subnet containing it. */
  private neighbour(n: NodeSpec, addr: number): { peer: Member; egress: Cidr } | undefined {
    for (const { m, seg } of this.attachments(n)) {
      const egress = m.addrs.find((c) => contains(c, addr));
      if (!egress) continue;
      const peer = seg.members.find((x) => x.node !== n && x.addrs.some((c) => c.addr === addr));
      if (peer) return { peer, egress };
    }
    return undefined;
  }

  /** Follows one packet; `src` defaults to the address of the first egress interface. */
  deliver(from: string, to: string, src?: string): Delivery {
    let dst = parseAddr(to)!;
    let cur = this.t.nodes.find((n) => n.name === from)!;
    let s = src === undefined ? undefined : parseAddr(src);
    const path = [cur.name];
    for (let ttl = 64; ttl > 0; ttl--) {
      if (this.owns(cur, dst)) return { ok: true, path, seen: { src: formatAddr(s!), dst: formatAddr(dst) } };
      if (path.length > 1 && !isRouter(cur.kind)) return { ok: false, path, reason: `${cur.name} does not forward` };
      const hop = this.lookup(cur, dst);
      if (!hop) return { ok: false, path, reason: `${cur.name} has no route to ${formatAddr(dst)}` };
      const next = this.neighbour(cur, hop.via ?? dst);
      if (!next) return { ok: false, path, reason: `${cur.name}: no neighbour answers ARP for ${formatAddr(hop.via ?? dst)}` };
      s ??= next.egress.addr; // the kernel's choice: the egress interface's address
      cur = next.peer.node;
      path.push(cur.name);
      const tr = cur.translator;
      if (tr) {
        const fromLan = tr.lan.includes(next.peer.iface);
        const ns = translateAddress(tr.pages, s, fromLan);
        const nd = translateAddress(tr.pages, dst, fromLan);
        if (ns === undefined) return { ok: false, path, reason: `${cur.name}'s translator has no page for source ${formatAddr(s)}` };
        if (nd === undefined) return { ok: false, path, reason: `${cur.name}'s translator has no page for destination ${formatAddr(dst)}` };
        [s, dst] = [ns, nd];
      }
    }
    return { ok: false, path, reason: 'TTL exceeded (routing loop)' };
  }

  /** A ping works when the request arrives and the reply, addressed as the target saw it, comes back. */
  ping(from: string, to: string): Delivery {
    const there = this.deliver(from, to);
    if (!there.ok) return there;
    const target = there.path[there.path.length - 1]!;
    const back = this.deliver(target, there.seen!.src, there.seen!.dst);
    if (back.ok && back.path[back.path.length - 1] === from && back.seen!.src === to) return there;
    const reason = !back.ok ? back.reason : back.path[back.path.length - 1] !== from ? `reply goes to ${back.path[back.path.length - 1]}, which has the same address` : `reply arrives from ${back.seen!.src}, not ${to}`;
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
