// Network paging (ICOIN 2011 §V-B/C, generalized in §V-E): where a workload lives decides
// how every client-side edge translator must map its address. At a data center whose edge
// router translates S → S′, clients reach the workload through its S′ image; at one without
// a translator, by its own address. Pure: computed from the topology alone.
import { LabError } from '../../errors.js';
import { formatAddr, parseCidr } from '../../topology/ipv4.js';
import { translateAddress } from '../../topology/forwarding.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../topology/model.js';
import { segmentsOf, type Segment } from '../../topology/segments.js';
import { workloadPort } from '../../topology/workloads.js';
import { ruleLine } from '../../translator/pages.js';

export interface PageSwitch {
  router: string;
  /** The agent's command, e.g. `switch 172.16.10.2/32 wan 172.15.10.2/32 contiguous`. */
  line: string;
  /** The workload's address on the WAN from now on. */
  wan: string;
}

/** The segment a workload joins on hypervisor `hv`. */
function workloadSegment(t: Topology, w: WorkloadSpec, hv: string): Segment {
  const node = nodeByName(t, hv);
  const port = node && workloadPort(node, w);
  const seg = port && segmentsOf(t).find((s) => s.members.some((m) => m.node.name === hv && m.iface === port));
  if (!seg) throw new LabError(`${hv} cannot host ${w.name}: none of its interfaces is in ${w.ipv4}`);
  return seg;
}

/** Edge routers whose translator faces a segment where workloads live: the server side. */
function serverSide(seg: Segment): { router: string; iface: string }[] {
  return seg.members.filter((m) => m.node.translator?.lan.includes(m.iface)).map((m) => ({ router: m.node.name, iface: m.iface }));
}

/**
 * Routers on the segment the workload joins at `hv` (its gateways there), with the
 * interface that faces it: their ARP caches are primed so the first packet on the new path
 * does not wait for an ARP exchange with a guest that has just resumed.
 */
export function gatewaysAt(t: Topology, w: WorkloadSpec, hv: string): { router: string; iface: string }[] {
  return workloadSegment(t, w, hv)
    .members.filter((m) => m.node.kind === 'router' || m.node.kind === 'edge-router')
    .map((m) => ({ router: m.node.name, iface: m.iface }));
}

export function clientTranslators(t: Topology): string[] {
  const hvSegments = segmentsOf(t).filter((s) => s.members.some((m) => m.node.kind === 'hypervisor'));
  const server = new Set(hvSegments.flatMap((s) => serverSide(s).map((x) => x.router)));
  return t.nodes.filter((n) => n.translator && !server.has(n.name)).map((n) => n.name);
}

/** The switches that make clients reach workload `w` on hypervisor `hv`. */
export function pagingPlan(t: Topology, w: WorkloadSpec, hv: string): PageSwitch[] {
  const addr = parseCidr(w.ipv4)!.addr;
  const servers = serverSide(workloadSegment(t, w, hv));
  const images = servers.map((s) => translateAddress(nodeByName(t, s.router)!.translator!.pages, addr, true));
  if (images.some((i) => i === undefined)) throw new LabError(`the translator at ${servers.map((s) => s.router).join('/')} has no page for ${formatAddr(addr)}: it would drop ${w.name}'s traffic`);
  const distinct = [...new Set(images)];
  if (distinct.length > 1) throw new LabError(`${hv}'s edge translators map ${formatAddr(addr)} differently (${distinct.map((i) => formatAddr(i!)).join(', ')})`);
  const image = distinct[0] ?? addr;
  const lan = `${formatAddr(addr)}/32`;
  const line = ruleLine({ lan, ...(image === addr ? {} : { wan: `${formatAddr(image)}/32` }), mapping: { kind: 'contiguous' } }).replace(/^page /, 'switch ');
  return clientTranslators(t).map((router) => ({ router, line, wan: formatAddr(image) }));
}
