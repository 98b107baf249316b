// The topology as plain data, after validation: what every substrate builds from.
import type { Mapping } from '../translator/mapping.js';

// Translator configuration (ICN 2011 pages): checked and compiled in translator/pages.ts.
export const BACKENDS = ['ebpf', 'nftables'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface PageSpec {
  /** The name in the topology's `pages`, when it came from there. */
  name?: string;
  lan: string;
  /** Absent for a pass-through page (the LAN addresses are used as is). */
  wan?: string;
  mapping: Mapping;
  vn?: string;
}

export interface TranslatorSpec {
  backend: Backend | 'auto';
  lan: string[];
  pages: PageSpec[];
}

export const NODE_KINDS = ['host', 'router', 'edge-router', 'lan', 'hypervisor'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Kinds that forward packets (ip_forward on, take part in auto routing). */
export function isRouter(kind: NodeKind): boolean {
  return kind === 'router' || kind === 'edge-router';
}

export interface InterfaceSpec {
  name: string;
  /** Addresses with prefix length, host bits kept: "172.16.0.1/16". */
  ipv4: string[];
  mac?: string;
  mtu?: number;
  /** false keeps this interface's subnets out of auto routing. */
  announce: boolean;
}

export interface RouteSpec {
  /** "default" or a prefix. */
  to: string;
  via: string;
  /** Computed by auto routing rather than written in the file. */
  auto?: boolean;
}

export interface NodeSpec {
  name: string;
  kind: NodeKind;
  labels: Record<string, string>;
  interfaces: InterfaceSpec[];
  routes: RouteSpec[];
  announce: string[];
  subnet?: string;
  /** edge-router only: the translator agent's pages. */
  translator?: TranslatorSpec;
  /** What a container substrate runs the node as (containerlab's keys); others use `exec` only. */
  container?: ContainerSettings;
  /** FRR daemons run in the node with this configuration (containerlab's `kind: frr`). */
  frr?: FrrSettings;
  /** The machine that carries the node: set on every node once placement is resolved, when the topology has hosts. */
  host?: string;
}

export interface ContainerSettings {
  /** Absent: warplab's own node image (busybox, iproute2). */
  image?: string;
  /** When `image` is not on the engine, run warplab's image with a warning (containerlab `linux` nodes). */
  substituteMissingImage?: boolean;
  env: Record<string, string>;
  /** `host-path:container-path[:ro]`, as docker takes them. */
  binds: string[];
  /** The container's command, as a shell line; absent: the image's own, or a sleeper for warplab's image. */
  cmd?: string;
  /** Shell lines run in the node after the lab's links are up, in order. */
  exec: string[];
}

export interface FrrSettings {
  /** frr.conf (integrated configuration), a path on the orchestrator's machine. */
  config: string;
  /** zebra first, then those the topology names or, when it names none, those the config needs. */
  daemons: string[];
}

export interface Endpoint {
  node: string;
  /** Absent for a lan endpoint. */
  iface?: string;
}

/**
 * Traffic control on a link, as Mininet's TCLink takes it: applied at both ends, so each
 * direction gets it (a delay of 10ms adds 20 ms to a round trip).
 */
export interface LinkParams {
  /** Rate limit in Mbit/s (htb). */
  bw?: number;
  /** One-way delay with unit, "10ms" (netem). */
  delay?: string;
  /** Random loss in percent (netem). */
  loss?: number;
  /** Queue length in packets (netem limit, or a pfifo when there is no netem). */
  maxQueueSize?: number;
}

export interface LinkSpec {
  a: Endpoint;
  b: Endpoint;
  mtu?: number;
  params?: LinkParams;
  labels: Record<string, string>;
}

export const WORKLOAD_KINDS = ['vm', 'container', 'placeholder'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface VmSettings {
  memoryMb: number;
  accel: 'auto' | 'kvm' | 'tcg';
  downtimeLimitMs: number;
  /** MB/s; 0 = unlimited. */
  maxBandwidthMbps: number;
}

/** A VM or container placed on a hypervisor node; it carries the UDP probe app. */
export interface WorkloadSpec {
  name: string;
  kind: WorkloadKind;
  /** The hypervisor node it starts on. */
  on: string;
  /** With prefix length: "172.16.10.2/16". */
  ipv4: string;
  gateway?: string;
  mac: string;
  labels: Record<string, string>;
  app: { peer?: string; intervalMs: number };
  vm: VmSettings;
}

/** The strategy of a topology that names none. */
export const DEFAULT_STRATEGY = 'network-paging';

export interface MigrationSpec {
  /** The lan that carries migration traffic. */
  network: string;
  /** A registered address strategy's name. */
  strategy: string;
  /** Each configured strategy's settings (`migration.<name>`), defaults applied; plain JSON. */
  settings?: Record<string, unknown>;
}

/** A machine the lab spans, reached by SSH with a key (never a password). */
export interface HostSpec {
  name: string;
  /** IPv4 on the underlay: SSH goes there, and the VXLAN tunnels run between these. */
  address: string;
  port: number;
  user: string;
  /** Absent: the keys of ssh-agent. Absolute (relative ones are resolved against the topology's folder). */
  keyFile?: string;
  /** A pinned host key, `SHA256:…`; otherwise the host key is checked against `knownHosts` (default ~/.ssh/known_hosts). */
  fingerprint?: string;
  knownHosts?: string;
  /** A `Host` alias of ~/.ssh/config whose settings the connection takes. */
  sshConfig?: string;
  underlayMtu: number;
  labels: Record<string, string>;
}

/**
 * How nodes without `host:` are placed. round-robin: over the hosts in declaration order.
 * explicit: every node says `host:`. byLabel: a node labelled L=V goes to the host named V, or
 * to the one host labelled L=V; nodes without the label go round robin.
 */
export type Placement = 'explicit' | 'round-robin' | { byLabel: string };

export interface Topology {
  name: string;
  labels: Record<string, string>;
  routing: 'static' | 'auto';
  nodes: NodeSpec[];
  links: LinkSpec[];
  workloads: WorkloadSpec[];
  migration?: MigrationSpec;
  /** Absent: everything runs on this machine. */
  hosts?: HostSpec[];
  placement?: Placement;
  /** Where it was loaded from, for messages. */
  source: string;
  /** What the loader ignored or substituted in a converted file (containerlab), one sentence each. */
  notes?: string[];
}

/** The settings a strategy runs with in this topology (as its loader check left them). */
export function settingsOf<S>(t: Topology, strategy: string): S {
  return t.migration?.settings?.[strategy] as S;
}

export function endpointName(e: Endpoint): string {
  return e.iface ? `${e.node}:${e.iface}` : e.node;
}

export function nodeByName(t: Topology, name: string): NodeSpec | undefined {
  return t.nodes.find((n) => n.name === name);
}
