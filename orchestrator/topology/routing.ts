// `routing: auto`: shortest-path (hop count) static routes, computed once from the model,
// standing in for the OSPF of the papers' WANs.
import { formatAddr, network, networkOf, type Cidr } from './ipv4.js';
import { isRouter, type NodeSpec, type RouteSpec, type Topology } from './model.js';
import { segmentsOf, type Segment } from './segments.js';
import type { Report } from './checks.js';

interface Origin {
  router: NodeSpec;
  segment?: Segment;
  /** Where it was declared, for messages. */
  what: string;
}

/** Next-hop address from `from` to `to` across a shared segment, in a subnet both have. */
function gateway(seg: Segment, from: NodeSpec, to: NodeSpec): string | undefined {
  const mine = seg.members.filter((m) => m.node === from).flatMap((m) => m.addrs);
  for (const m of seg.members.filter((x) => x.node === to)) {
    for (const a of m.addrs) if (mine.some((c: Cidr) => c.len === a.len && network(c) === network(a))) return formatAddr(a.addr);
  }
  return undefined;
}

/** Returns the topology with computed routes added to each node's `routes` (marked auto). */
export function autoRoutes(t: Topology, report: Report): Topology {
  const segments = segmentsOf(t);
  const routers = t.nodes.filter((n) => isRouter(n.kind));

  const origins = new Map<string, Origin[]>();
  const add = (prefix: string, o: Origin) => origins.set(prefix, [...(origins.get(prefix) ?? []), o]);
  for (const seg of segments) {
    for (const m of seg.members) {
      const spec = m.node.interfaces.find((i) => i.name === m.iface)!;
      if (!isRouter(m.node.kind) || !spec.announce) continue;
      for (const a of m.addrs) add(networkOf(a), { router: m.node, segment: seg, what: `${m.node.name}:${m.iface}` });
    }
  }
  for (const r of routers) for (const p of r.announce) add(p, { router: r, what: `${r.name} (announce)` });

  // The same prefix from two places is ambiguous: the papers' identical data-center subnets
  // must be hidden (announce: false) on all but one side.
  for (const [prefix, os] of origins) {
    const places = new Set(os.map((o) => o.segment?.id ?? `announce:${o.router.name}`));
    if (places.size > 1) {
      const second = os.find((o) => (o.segment?.id ?? `announce:${o.router.name}`) !== (os[0]!.segment?.id ?? `announce:${os[0]!.router.name}`))!;
      report(['nodes', second.router.name], `${prefix} is announced from two places (${os[0]!.what} and ${second.what})`, 'set `announce: false` on the interface that must stay hidden, or announce a translated prefix instead');
      origins.delete(prefix);
    }
  }

  // Router adjacency: routers sharing a segment are one hop apart.
  const adj = new Map<NodeSpec, { peer: NodeSpec; seg: Segment }[]>(routers.map((r) => [r, []]));
  for (const seg of segments) {
    const rs = [...new Set(seg.members.map((m) => m.node).filter((n) => isRouter(n.kind)))];
    for (const a of rs) for (const b of rs) if (a !== b) adj.get(a)!.push({ peer: b, seg });
  }

  const routes = new Map<string, RouteSpec[]>(t.nodes.map((n) => [n.name, [...n.routes]]));
  for (const r of routers) {
    // BFS from r; first hop recorded for every reached router (ties: file order).
    const first = new Map<NodeSpec, { peer: NodeSpec; seg: Segment }>();
    const queue: NodeSpec[] = [r];
    const seen = new Set([r]);
    while (queue.length) {
      const cur = queue.shift()!;
      for (const e of adj.get(cur)!) {
        if (seen.has(e.peer)) continue;
        seen.add(e.peer);
        first.set(e.peer, cur === r ? e : first.get(cur)!);
        queue.push(e.peer);
      }
    }
    const connected = new Set(
      segments.flatMap((s) => s.members.filter((m) => m.node === r)).flatMap((m) => m.addrs.map(networkOf)),
    );
    const mine = routes.get(r.name)!;
    for (const [prefix, os] of origins) {
      if (connected.has(prefix) || os.some((o) => o.router === r) || mine.some((x) => x.to === prefix)) continue;
      const dist = (n: NodeSpec) => (first.has(n) ? [...seen].indexOf(n) : Infinity);
      const target = os.map((o) => o.router).filter((n) => first.has(n)).sort((a, b) => dist(a) - dist(b))[0];
      if (!target) continue;
      const hop = first.get(target)!;
      const via = gateway(hop.seg, r, hop.peer);
      if (via) mine.push({ to: prefix, via, auto: true });
    }
  }

  // Hosts: a default route through their only adjacent router.
  for (const n of t.nodes) {
    if (isRouter(n.kind) || n.kind === 'lan' || n.routes.some((x) => x.to === 'default')) continue;
    const gws = new Set<string>();
    for (const seg of segments.filter((s) => s.members.some((m) => m.node === n))) {
      for (const peer of new Set(seg.members.map((m) => m.node).filter((p) => isRouter(p.kind)))) {
        const via = gateway(seg, n, peer);
        if (via) gws.add(via);
      }
    }
    if (gws.size === 1) routes.get(n.name)!.push({ to: 'default', via: [...gws][0]!, auto: true });
    else if (gws.size > 1) report(['nodes', n.name], `${n.name} has ${gws.size} adjacent routers (${[...gws].join(', ')}), so auto routing cannot pick its default route`, `add routes: [{to: default, via: ${[...gws][0]}}]`, true);
  }

  return { ...t, nodes: t.nodes.map((n) => ({ ...n, routes: routes.get(n.name)! })) };
}
