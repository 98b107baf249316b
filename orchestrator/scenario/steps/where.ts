// Names in steps: nodes, workloads, addresses and links of the scenario's topology, and the
// Shells of the nodes and workloads that run a step's commands.
import { Interrupted, LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import type { Shell } from '../../shell/shell.js';
import { parseAddr } from '../../topology/ipv4.js';
import { endpointName, nodeByName, type Endpoint, type LinkSpec, type Topology } from '../../topology/model.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckContext } from '../step.js';
import type { YamlPath } from '../../topology/source.js';

/** A node's first address (how reports and pings name it). */
export function firstAddress(t: Topology, node: string): string | undefined {
  return nodeByName(t, node)?.interfaces.flatMap((i) => i.ipv4)[0]?.split('/')[0];
}

/** A node name, a workload name or a plain address → the address to send to. */
export function targetAddress(t: Topology, target: string): string | undefined {
  if (parseAddr(target) !== undefined) return target;
  const w = t.workloads.find((x) => x.name === target);
  if (w) return w.ipv4.split('/')[0];
  return firstAddress(t, target);
}

/** A target as messages name it: "vm-a (172.16.10.2)", or the address alone when it is one. */
export function targetText(target: string, address: string): string {
  return address === target ? target : `${target} (${address})`;
}

/** A short list for hints: "a, b, c" or "a, b, c … (12 in all)". */
export function few(names: readonly string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … (${names.length} in all)`;
}

/** Reports unless `target` names something to send to: a node, a workload or an address. */
export function checkTarget(ctx: CheckContext, at: YamlPath, target: string): void {
  if (targetAddress(ctx.topology, target) === undefined) {
    ctx.report(at, `"${target}" is no node, workload or address of topology ${ctx.topology.name}`, 'name a host, router, hypervisor or workload, or write an address');
  }
}

/** Reports unless `name` is a workload or a node that runs commands (a lan too when allowed). */
export function checkRunner(ctx: CheckContext, at: YamlPath, name: string, o: { lan?: boolean } = {}): void {
  if (ctx.topology.workloads.some((w) => w.name === name)) return;
  if (nodeByName(ctx.topology, name)) {
    checkNode(ctx, at, name, o);
    return;
  }
  const nodes = ctx.topology.nodes.filter((x) => o.lan || x.kind !== 'lan').map((x) => x.name);
  const workloads = ctx.topology.workloads.map((w) => w.name);
  ctx.report(at, `unknown node or workload "${name}"`, `nodes: ${few(nodes)}` + (workloads.length ? `; workloads: ${few(workloads)}` : ''));
}

/** The Shell of a workload or a node, by name (what checkRunner accepts). */
export function runnerShell(lab: LabHandle, name: string): Shell {
  return lab.topology.workloads.some((w) => w.name === name) ? lab.workloadShell(name) : lab.shell(name);
}

/** Reports unless `name` is a node of the topology (not a lan unless allowed). */
export function checkNode(ctx: CheckContext, at: YamlPath, name: string, o: { lan?: boolean } = {}): boolean {
  const n = nodeByName(ctx.topology, name);
  if (!n) {
    ctx.report(at, `unknown node "${name}"`, `nodes: ${few(ctx.topology.nodes.filter((x) => o.lan || x.kind !== 'lan').map((x) => x.name))}`);
    return false;
  }
  if (n.kind === 'lan' && !o.lan) {
    ctx.report(at, `${name} is a lan, not a node that sends or runs commands`, `hosts and routers: ${few(ctx.topology.nodes.filter((x) => x.kind !== 'lan').map((x) => x.name))}`);
    return false;
  }
  return true;
}

const TERSE = /^\s*(\S+)\s+--\s+(\S+)\s*$/;

function endpoint(s: string): Endpoint {
  const [node, iface] = s.split(':');
  return iface ? { node: node!, iface } : { node: node! };
}

export function linkName(l: LinkSpec): string {
  return `${endpointName(l.a)} -- ${endpointName(l.b)}`;
}

/** The topology link written as "A:eth0 -- B:eth1" (either order); its index, or undefined. */
export function findLink(t: Topology, text: string): number | undefined {
  const m = TERSE.exec(text);
  if (!m) return undefined;
  const [x, y] = [endpointName(endpoint(m[1]!)), endpointName(endpoint(m[2]!))];
  const i = t.links.findIndex((l) => {
    const [a, b] = [endpointName(l.a), endpointName(l.b)];
    return (a === x && b === y) || (a === y && b === x);
  });
  return i < 0 ? undefined : i;
}

/**
 * Where a link is cut: at a lan, the bridge port that leads to the other end (setting it down
 * only drops the carrier, so the hosts keep their neighbour entries); between two nodes, the
 * first end's interface.
 */
export async function cutPoint(lab: LabHandle, l: LinkSpec): Promise<{ node: string; dev: string }> {
  const t = lab.topology;
  const lanEnd = [l.a, l.b].find((e) => nodeByName(t, e.node)?.kind === 'lan');
  if (!lanEnd) return { node: l.a.node, dev: l.a.iface! };
  const other = lanEnd === l.a ? l.b : l.a;
  const out = (await lab.shell(other.node).exec(['ip', '-o', 'link', 'show', 'dev', other.iface!])).stdout;
  const peer = /^\d+: [^@:]+@if(\d+):/.exec(out)?.[1];
  const line = peer && (await lab.shell(lanEnd.node).exec(['ip', '-o', 'link', 'show'])).stdout.split('\n').find((x) => x.startsWith(`${peer}: `));
  if (!line) throw new LabError(`cannot find ${endpointName(other)}'s port on lan ${lanEnd.node} (is ${lanEnd.node} a bridge in its own namespace on this substrate?)`);
  return { node: lanEnd.node, dev: line.split(': ')[1]!.split('@')[0]! };
}

/** A pause that Ctrl-C ends at once. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw new Interrupted('interrupted while waiting');
    throw e;
  }
}
