// What the Mininet substrate asks its helper for: the topology as a `build` request (Mininet
// nodes, switches and links, plus each node's configuration script). Pure, so unit tests
// read it without root. Addresses, routes and marks are the netns substrate's own `ip -batch`
// lines, so a lab is configured identically on both substrates.
import type { Topology } from '../../topology/model.js';
import { tcScript } from '../netns/linkparams.js';
import { nodeBatch, nodeTc, sysctlsOf, type Wire } from '../netns/plan.js';

export const SWITCH_KINDS = ['lxbr', 'ovs'] as const;
export type SwitchKind = (typeof SWITCH_KINDS)[number];

export interface BuildNode {
  name: string;
  /** `lan`: a Mininet switch in the sandbox's own namespace; `node`: a Mininet host (a router is a host with forwarding on). */
  kind: 'node' | 'lan';
  /** Run with `sh -ec` inside the node; reads `batch` on stdin. */
  script: string;
  batch: string;
}

export interface BuildRequest {
  op: 'build';
  switch: SwitchKind;
  nodes: BuildNode[];
  links: { a: { node: string; ifname: string }; b: { node: string; ifname: string } }[];
}

/**
 * A lan's ports all live in the sandbox's namespace, beside every other lan's: `LAN.N` is
 * unique (node names cannot contain a dot) and fits the kernel's 15 characters, or falls
 * back to `lan.I.N` by the lan's position in the topology.
 */
export function lanPortName(lan: string, lanIndex: number, n: number): string {
  const name = `${lan}.${n}`;
  return name.length <= 15 ? name : `lan.${lanIndex}.${n}`;
}

/** Links as wires (the netns substrate's shape), with the Mininet names of lan ports. */
export function mininetWires(t: Topology): Wire[] {
  const lanIndex = new Map(t.nodes.filter((n) => n.kind === 'lan').map((n, i) => [n.name, i]));
  const ports = new Map<string, number>();
  return t.links.map((l) => {
    const end = (e: typeof l.a) => {
      const li = lanIndex.get(e.node);
      if (li === undefined) return { ns: '', node: e.node, ifname: e.iface! };
      const n = (ports.get(e.node) ?? 0) + 1;
      ports.set(e.node, n);
      return { ns: '', node: e.node, ifname: lanPortName(e.node, li, n) };
    };
    return { a: end(l.a), b: end(l.b), ...(l.mtu ? { mtu: l.mtu } : {}), ...(l.params ? { params: l.params } : {}) };
  });
}

function script(pre: string[], tc: string[][]): string {
  const head = pre.length ? pre.join('; ') + '; ' : '';
  return tc.length ? `${head}ip -batch -\n${tcScript(tc)}` : `${head}exec ip -batch -`;
}

export function buildRequest(t: Topology, mark: string, sw: SwitchKind): BuildRequest {
  const wires = mininetWires(t);
  const kinds = new Map(t.nodes.map((n) => [n.name, n.kind]));
  // Open vSwitch's userspace datapath forwards what the sender's veth left unchecksummed:
  // every veth on an OVS lan sends with checksums computed (tx offload off), both ends.
  const onOvs = (w: Wire) => sw === 'ovs' && (kinds.get(w.a.node) === 'lan' || kinds.get(w.b.node) === 'lan');
  const ends = (node: string) => wires.flatMap((w) => [w.a, w.b].filter((e) => e.node === node).map((e) => ({ e, w })));
  const nodes = t.nodes.map((n): BuildNode => {
    const mine = ends(n.name);
    const ethtool = mine.filter(({ w }) => onOvs(w)).map(({ e }) => `ethtool -K ${e.ifname} tx off >/dev/null`);
    // Mininet makes veths without an MTU: a link's MTU is set at both ends here.
    const mtu = mine.filter(({ w }) => w.mtu).map(({ e, w }) => `link set dev ${e.ifname} mtu ${w.mtu}\n`);
    if (n.kind === 'lan') {
      const lines = [`link set dev lo alias ${mark}`, 'link set dev lo up', ...mine.flatMap(({ e }) => [`link set dev ${e.ifname} alias ${mark}`, `link set dev ${e.ifname} up`])];
      return { name: n.name, kind: 'lan', script: script(ethtool, nodeTc(n, wires)), batch: mtu.join('') + lines.map((l) => l + '\n').join('') };
    }
    const sysctls = Object.entries(sysctlsOf(n)).map(([k, v]) => `echo ${v} > /proc/sys/${k}`);
    return { name: n.name, kind: 'node', script: script([...sysctls, ...ethtool], nodeTc(n, wires)), batch: mtu.join('') + nodeBatch(n, wires, mark) };
  });
  return {
    op: 'build',
    switch: sw,
    nodes,
    links: wires.map((w) => ({ a: { node: w.a.node, ifname: w.a.ifname }, b: { node: w.b.node, ifname: w.b.ifname } })),
  };
}

