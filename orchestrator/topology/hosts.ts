// Hosts (the SSH substrate): which machine carries each node, and what crossing
// machines costs. Whatever joins nodes on different hosts runs through VXLAN over the
// underlay, so every host reaches every other and only the MTU shrinks.
import { addressField, type Report } from './checks.js';
import type { HostSpec, LinkSpec, NodeSpec, Topology } from './model.js';

/** Outer IPv4 20 + UDP 8 + VXLAN 8 + the inner frame's Ethernet header 14. */
export const VXLAN_OVERHEAD = 50;

/** The host named `value`, else the host labelled label=value (ambiguity is reported by checkHosts). */
function hostByLabel(hosts: HostSpec[], label: string, value: string): HostSpec | undefined {
  return hosts.find((h) => h.name === value) ?? hosts.find((h) => Object.hasOwn(h.labels, label) && h.labels[label] === value);
}

/**
 * Every node gets its host: its own `host:`, else by the placement rule, else the next host
 * round robin (nodes in file order, hosts in declaration order, so the result never varies).
 */
export function placeNodes(t: Topology, report: Report): Topology {
  if (!t.hosts) {
    for (const n of t.nodes.filter((x) => x.host)) report(['nodes', n.name, 'host'], `${n.name} names a host, but the topology declares none`, 'declare the machines under the top-level hosts', true);
    if (t.placement) report(['placement'], 'placement needs the top-level hosts it places nodes on', 'declare the machines under hosts, or remove placement', true);
    return t;
  }
  const hosts = t.hosts;
  const names = hosts.map((h) => h.name).join(', ');
  const rule = t.placement ?? 'round-robin';
  let next = 0;
  const place = (n: NodeSpec): string | undefined => {
    if (n.host) {
      if (hosts.some((h) => h.name === n.host)) return n.host;
      return void report(['nodes', n.name, 'host'], `unknown host "${n.host}"`, `hosts are: ${names}`);
    }
    if (typeof rule === 'object' && Object.hasOwn(n.labels, rule.byLabel)) {
      const value = n.labels[rule.byLabel]!;
      const host = hostByLabel(hosts, rule.byLabel, value);
      if (host) return host.name;
      const labelled = hosts.filter((h) => Object.hasOwn(h.labels, rule.byLabel)).map((h) => `${h.labels[rule.byLabel]} (${h.name})`);
      return void report(['nodes', n.name, 'labels', rule.byLabel], `placement by-label ${rule.byLabel}: "${value}" names no host`, `a value is a host's name (${names})${labelled.length ? ` or a host's ${rule.byLabel} label: ${labelled.join(', ')}` : ''}`);
    }
    if (rule === 'explicit') return void report(['nodes', n.name], `${n.name} has no host`, `placement: explicit wants host: on every node (hosts: ${names})`, true);
    return hosts[next++ % hosts.length]!.name;
  };
  return {
    ...t,
    nodes: t.nodes.map((n) => {
      const host = place(n);
      return host === undefined ? n : { ...n, host };
    }),
  };
}

/** What a schema cannot say about hosts: valid, distinct addresses; one way to check host keys; by-label values that pick one host. */
export function checkHosts(t: Topology, report: Report): void {
  const byAddress = new Map<number, string>();
  const byValue = new Map<string, string>();
  const label = typeof t.placement === 'object' ? t.placement.byLabel : undefined;
  for (const h of t.hosts ?? []) {
    const at = ['hosts', h.name];
    const address = addressField(h.address, [...at, 'address'], report);
    const twin = address === undefined ? undefined : byAddress.get(address);
    if (twin) report([...at, 'address'], `${h.name} and ${twin} share the address ${h.address}`, 'each host needs its own underlay address: tunnels run between them');
    else if (address !== undefined) byAddress.set(address, h.name);
    if (h.fingerprint && h.knownHosts) report([...at, 'known-hosts'], 'give either fingerprint or known-hosts', 'a pinned fingerprint replaces the known_hosts check', true);
    if (label === undefined || !Object.hasOwn(h.labels, label)) continue;
    const other = byValue.get(h.labels[label]!);
    if (other) report([...at, 'labels', label], `${h.name} and ${other} are both labelled ${label}=${h.labels[label]}`, 'by-label placement needs one host per value');
    else byValue.set(h.labels[label]!, h.name);
  }
}

/** The hosts a lan spans: its own and its members', in declaration order. */
export function lanHosts(t: Topology, lan: string): string[] {
  const on = new Map(t.nodes.map((n) => [n.name, n.host]));
  const members = t.links.flatMap((l) => (l.a.node === lan ? [l.b.node] : l.b.node === lan ? [l.a.node] : []));
  const names = new Set([lan, ...members].map((n) => on.get(n)));
  return (t.hosts ?? []).filter((h) => names.has(h.name)).map((h) => h.name);
}

/** A link whose frames cross hosts: the hosts, their smallest underlay MTU, and what a tunnel carries. */
export interface Crossing {
  hosts: string[];
  underlay: number;
  mtu: number;
}

/** What joining these hosts costs; undefined for fewer than two. */
export function crossingOf(t: Topology, names: (string | undefined)[]): Crossing | undefined {
  const hosts = (t.hosts ?? []).filter((h) => names.includes(h.name));
  if (hosts.length < 2) return undefined;
  const underlay = Math.min(...hosts.map((h) => h.underlayMtu));
  return { hosts: hosts.map((h) => h.name), underlay, mtu: underlay - VXLAN_OVERHEAD };
}

/** Undefined when the link stays on one host; a lan link crosses when its lan spans hosts. */
export function linkCrossing(t: Topology, l: LinkSpec): Crossing | undefined {
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  const lan = [l.a, l.b].map((e) => nodes.get(e.node)).find((n) => n?.kind === 'lan');
  return crossingOf(t, lan ? lanHosts(t, lan.name) : [l.a, l.b].map((e) => nodes.get(e.node)?.host));
}

/** An mtu on a crossing link, or on an interface at its ends, must fit in the tunnel. */
export function checkTunnelMtus(t: Topology, report: Report): void {
  const nodes = new Map(t.nodes.map((n) => [n.name, n]));
  t.links.forEach((l, i) => {
    const c = linkCrossing(t, l);
    if (!c) return;
    const why = `links[${i}] crosses ${c.hosts.join(', ')} by VXLAN, which carries ${c.underlay} (underlay MTU) − ${VXLAN_OVERHEAD} (outer IPv4 20, UDP 8, VXLAN 8, Ethernet 14) = ${c.mtu}`;
    const hint = `use ${c.mtu} or less, or raise underlay-mtu on ${c.hosts.join(', ')}`;
    if (l.mtu && l.mtu > c.mtu) report(['links', i, 'mtu'], `mtu ${l.mtu} is too large: ${why}`, hint);
    for (const e of [l.a, l.b]) {
      const mtu = nodes.get(e.node)?.interfaces.find((x) => x.name === e.iface)?.mtu;
      if (mtu && mtu > c.mtu) report(['nodes', e.node, 'interfaces', e.iface!, 'mtu'], `mtu ${mtu} is too large: ${why}`, hint);
    }
  });
}
