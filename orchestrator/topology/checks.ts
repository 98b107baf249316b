// Semantic checks: what a schema cannot say. Every problem is collected, none stops the others.
import { broadcast, contains, formatAddr, hasHostBits, network, networkOf, overlaps, parseCidr, readAddr, readCidr, type Cidr } from './ipv4.js';
import { endpointName, isRouter, type NodeSpec, type Topology } from './model.js';
import { segmentsOf } from './segments.js';
import type { YamlPath } from './source.js';

export type Report = (path: YamlPath, message: string, hint?: string, key?: boolean) => void;

/** Where in the file an address came from: ipv4 may be one string or a list. */
export type AddressPath = (node: string, iface: string, index: number) => YamlPath;

const CIDR_FORMS = {
  host: { what: 'IPv4 address with prefix length', example: '10.0.0.1/24' },
  prefix: { what: 'IPv4 prefix', example: '10.0.0.0/24' },
};

/**
 * An address field with its prefix length, parsed. A malformed one is reported here, once:
 * callers skip what they would derive from it, so one bad field gives one error.
 */
export function cidrField(text: string, form: keyof typeof CIDR_FORMS, at: YamlPath, report: Report): Cidr | undefined {
  const c = readCidr(text);
  if (typeof c !== 'string') return c;
  report(at, `"${text}" is not a valid ${CIDR_FORMS[form].what}: ${c}`, `each part is 0-255 and the length 0-32, e.g. ${CIDR_FORMS[form].example}`);
  return undefined;
}

/** A plain address field, parsed; reported like cidrField. */
export function addressField(text: string, at: YamlPath, report: Report): number | undefined {
  const a = readAddr(text);
  if (typeof a === 'number') return a;
  report(at, `"${text}" is not a valid IPv4 address: ${a}`, 'each part is 0-255, e.g. 10.0.0.1');
  return undefined;
}

/** A node whose subnets are not all known: one of its addresses is malformed (and reported). */
export function hasMalformedAddress(n: NodeSpec): boolean {
  return n.interfaces.some((i) => i.ipv4.some((a) => !parseCidr(a)));
}

export function checkTopology(t: Topology, report: Report, addressPath: AddressPath): void {
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  const used = new Map<string, number>();

  t.links.forEach((l, i) => {
    for (const [side, e] of [['a', l.a], ['b', l.b]] as const) {
      const node = nodes.get(e.node);
      if (!node) {
        report(['links', i], `link ${side} end: unknown node "${e.node}"`, `nodes are: ${[...nodes.keys()].join(', ')}`);
        continue;
      }
      if (node.kind === 'lan') {
        if (e.iface) report(['links', i], `${endpointName(e)}: a lan has no interfaces of its own`, `write just "${e.node}"; warplab names the bridge ports`);
        continue;
      }
      if (!e.iface) {
        report(['links', i], `link ${side} end "${e.node}" needs an interface name`, `write ${e.node}:eth0 (only lan endpoints are bare names)`);
        continue;
      }
      if (!node.interfaces.some((x) => x.name === e.iface)) {
        const known = node.interfaces.map((x) => x.name);
        report(['links', i], `unknown interface "${endpointName(e)}"`, known.length ? `${e.node} declares: ${known.join(', ')}` : `declare it under nodes.${e.node}.interfaces`);
        continue;
      }
      const key = endpointName(e);
      const first = used.get(key);
      if (first !== undefined) report(['links', i], `interface ${key} is already used by links[${first}]`, 'an interface joins one link; use a lan node to join more than two');
      else used.set(key, i);
    }
    if (nodes.get(l.a.node)?.kind === 'lan' && nodes.get(l.b.node)?.kind === 'lan') {
      report(['links', i], `link joins two lans (${l.a.node}, ${l.b.node})`, 'merge them into one lan, or put a host or router between them');
    }
  });

  for (const n of t.nodes) {
    const base: YamlPath = ['nodes', n.name];
    if (n.kind === 'lan' && n.interfaces.length) report([...base, 'interfaces'], `lan ${n.name} cannot declare interfaces`, 'link other nodes to it by its bare name');
    if (n.kind === 'lan' && (n.container || n.frr)) report(base, `lan ${n.name} runs nothing: it is a bridge`, 'image, env, binds, cmd, exec and frr are for hosts and routers', true);
    if (n.kind !== 'lan' && n.subnet) report([...base, 'subnet'], `subnet is only for lan nodes`, 'give the node an interface address instead', true);
    if (!isRouter(n.kind) && n.announce.length) report([...base, 'announce'], `announce is only for routers (kind router or edge-router)`, undefined, true);
    const subnet = n.subnet === undefined ? undefined : cidrField(n.subnet, 'prefix', [...base, 'subnet'], report);
    if (subnet && hasHostBits(subnet)) report([...base, 'subnet'], `subnet ${n.subnet} has host bits set`, `did you mean ${networkOf(subnet)}?`);
    n.announce.forEach((p, k) => {
      const c = cidrField(p, 'prefix', [...base, 'announce', k], report);
      if (c && hasHostBits(c)) report([...base, 'announce', k], `prefix ${p} has host bits set`, `did you mean ${networkOf(c)}?`);
    });
    for (const itf of n.interfaces) {
      if (n.kind !== 'lan' && !used.has(`${n.name}:${itf.name}`)) {
        report([...base, 'interfaces', itf.name], `interface ${n.name}:${itf.name} is declared but no link uses it`, `add a link such as "${n.name}:${itf.name} -- OTHER:eth0", or remove the interface`, true);
      }
      itf.ipv4.forEach((a, k) => {
        const at = addressPath(n.name, itf.name, k);
        const c = cidrField(a, 'host', at, report);
        if (!c) return;
        if (c.len <= 30 && c.addr === network(c)) report(at, `${a} is the network address of its subnet`, `use a host address such as ${formatAddr(network(c) + 1)}/${c.len}`);
        else if (c.len <= 30 && c.addr === broadcast(c)) report(at, `${a} is the broadcast address of its subnet`, `use a host address such as ${formatAddr(broadcast(c) - 1)}/${c.len}`);
      });
    }
  }

  const segments = segmentsOf(t);
  for (const seg of segments) {
    const where = seg.lan ? `lan ${seg.lan.name}` : seg.id;
    const seen: { addr: number; len: number; who: string }[] = [];
    const macs = new Map<string, string>();
    const lanNet = seg.lan?.subnet ? parseCidr(seg.lan.subnet) : undefined;
    for (const m of seg.members) {
      const who = `${m.node.name}:${m.iface}`;
      const spec = m.node.interfaces.find((x) => x.name === m.iface)!;
      if (spec.mac) {
        const mac = spec.mac.toLowerCase();
        const other = macs.get(mac);
        if (other) report(['nodes', m.node.name, 'interfaces', m.iface, 'mac'], `MAC ${spec.mac} is also used by ${other} on ${where}`, 'MACs must differ within one segment (identical gateway MACs belong in different data centers)');
        else macs.set(mac, who);
      }
      m.addrs.forEach((c, k) => {
        const at = addressPath(m.node.name, m.iface, k);
        const text = `${formatAddr(c.addr)}/${c.len}`;
        if (lanNet && !contains(lanNet, c.addr)) report(at, `${text} is outside ${where}'s subnet ${seg.lan!.subnet}`, `use an address inside ${seg.lan!.subnet}`);
        const same = seen.find((s) => s.addr === c.addr);
        const clash = seen.find((s) => overlaps(s, c) && (s.len !== c.len || network(s) !== network(c)));
        if (same) report(at, `address ${formatAddr(c.addr)} is also used by ${same.who} on ${where}`, 'addresses must be unique within a segment');
        else if (clash) report(at, `${text} overlaps ${formatAddr(clash.addr)}/${clash.len} of ${clash.who} on ${where} with a different prefix`, `give every interface on ${where} the same prefix, e.g. /${clash.len}`);
        seen.push({ addr: c.addr, len: c.len, who });
      });
    }
  }

  for (const n of t.nodes) {
    const own = n.interfaces.flatMap((i) => i.ipv4.map((a) => parseCidr(a)).filter((c) => !!c));
    const tos = new Set<string>();
    n.routes.forEach((r, k) => {
      const at: YamlPath = ['nodes', n.name, 'routes', k];
      if (r.to !== 'default') {
        const c = cidrField(r.to, 'prefix', [...at, 'to'], report);
        if (c && hasHostBits(c)) report([...at, 'to'], `route target ${r.to} has host bits set`, `did you mean ${networkOf(c)}?`);
      }
      if (tos.has(r.to)) report([...at, 'to'], `a second route to ${r.to}`, 'one route per destination (ECMP is not supported)');
      tos.add(r.to);
      const via = addressField(r.via, [...at, 'via'], report);
      // Where the next hop lies is unknown while an address it could match is malformed.
      const neighbours = segments.filter((s) => s.members.some((m) => m.node === n)).flatMap((s) => s.members.filter((m) => m.node !== n));
      if (via === undefined || [n, ...neighbours.map((m) => m.node)].some(hasMalformedAddress)) return;
      if (own.some((c) => c.addr === via)) return report([...at, 'via'], `next hop ${r.via} is ${n.name}'s own address`);
      if (!own.some((c) => contains(c, via))) {
        return report([...at, 'via'], `next hop ${r.via} is not in any subnet of ${n.name}`, own.length ? `${n.name} is connected to ${own.map(networkOf).join(', ')}` : `${n.name} has no addresses`);
      }
      if (!neighbours.some((m) => m.addrs.some((c) => c.addr === via))) {
        report([...at, 'via'], `next hop ${r.via} is unreachable: no node on ${n.name}'s segments has that address`, 'point the route at a neighbour\'s address');
      }
    });
  }
}
