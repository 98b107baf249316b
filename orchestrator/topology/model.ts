// The topology as plain data, after validation: what every substrate builds from.
import type { TranslatorSpec } from '../translator/pages.js';

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

export const WORKLOAD_KINDS = ['vm', 'container'] as const;
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

export interface MigrationSpec {
  /** The lan that carries migration traffic. */
  network: string;
  strategy: string;
}

export interface Topology {
  name: string;
  labels: Record<string, string>;
  routing: 'static' | 'auto';
  nodes: NodeSpec[];
  links: LinkSpec[];
  workloads: WorkloadSpec[];
  migration?: MigrationSpec;
  /** Where it was loaded from, for messages. */
  source: string;
}

export function endpointName(e: Endpoint): string {
  return e.iface ? `${e.node}:${e.iface}` : e.node;
}

export function nodeByName(t: Topology, name: string): NodeSpec | undefined {
  return t.nodes.find((n) => n.name === name);
}
