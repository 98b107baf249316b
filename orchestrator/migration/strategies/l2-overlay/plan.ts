// An L2-overlay move as data. The workload keeps IP and MAC on one segment, so routes and
// the gateway's ARP never change; what changes is where each VTEP sends the workload's MAC.
// static: the difference between every VTEP's FDB before and after (warplab as controller);
// learn: nothing to push, the VTEPs learn from the workload's announcement. Pure.
import { LabError } from '../../../errors.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../../topology/model.js';
import { segmentsOf } from '../../../topology/segments.js';
import { workloadPort } from '../../../topology/workloads.js';
import type { MovePlan, Placement, PlannedChange } from '../../strategy-types.js';
import { gatewaysOn, overlayOf, type L2OverlaySettings, type Overlay, type Vtep } from './settings.js';

/** One VTEP's part on `go`: `bridge -batch` lines. */
export interface FdbUpdate {
  node: string;
  /** What it changes, for the reports. */
  detail: string;
  /** Entries toward the workload's new VTEP: must succeed. */
  add: string[];
  /** Its entries at the VTEP it arrives at; bridge learning may have moved the bridge's already. */
  del: string[];
}

export interface L2OverlayData {
  mac: string;
  address: string;
  device: string;
  fdb: L2OverlaySettings['fdb'];
  updates: FdbUpdate[];
  /** The VTEP the workload arrives behind. */
  at: string;
  /** Every VTEP (learn mode watches their FDBs). */
  vteps: string[];
  /** Where the workload's traffic to other subnets leaves the overlay after the move (home: the tromboning path). */
  exit: string;
}

/** MAC → the remote VTEP address it is behind, per VTEP (static mode). */
export type FdbState = Map<string, Record<string, string>>;

/** The VTEP of the DC LAN a hypervisor is on. */
export function vtepOf(t: Topology, o: Overlay, hv: string): Vtep | undefined {
  const segs = segmentsOf(t);
  return o.vteps.find((v) => segs.find((s) => s.lan?.name === v.lan)?.members.some((m) => m.node.name === hv));
}

export function fdbStates(t: Topology, o: Overlay, placement: Placement): FdbState {
  const states: FdbState = new Map(o.vteps.map((v) => [v.node, {}]));
  for (const w of t.workloads) {
    const at = vtepOf(t, o, placement[w.name] ?? w.on);
    if (!at) continue;
    for (const v of o.vteps) if (v !== at) states.get(v.node)![w.mac] = at.address;
  }
  return states;
}

const addLines = (dev: string, mac: string, remote: string) => [`fdb replace ${mac} dev ${dev} dst ${remote} self static`, `fdb replace ${mac} dev ${dev} master static`];
const delLines = (dev: string, mac: string) => [`fdb del ${mac} dev ${dev} self`, `fdb del ${mac} dev ${dev} master`];

/** Every VTEP's entries for `w` as if it had always run on `hv` (initial placement, repairs). */
export function placeUpdates(t: Topology, o: Overlay, w: WorkloadSpec, hv: string): FdbUpdate[] {
  const at = vtepOf(t, o, hv);
  if (!at) return [];
  return o.vteps.map((v) => (v === at ? { node: v.node, detail: `${w.mac} is local`, add: [], del: delLines(o.device, w.mac) } : { node: v.node, detail: `${w.mac} → VTEP ${at.node}`, add: addLines(o.device, w.mac, at.address), del: [] }));
}

/** What each VTEP changes to go from `before` to `after`. */
export function fdbDiff(o: Overlay, before: FdbState, after: FdbState): { updates: FdbUpdate[]; changes: PlannedChange[] } {
  const updates: FdbUpdate[] = [];
  const changes: PlannedChange[] = [];
  const nameOf = (addr: string) => o.vteps.find((v) => v.address === addr)?.node ?? addr;
  for (const v of o.vteps) {
    const b = before.get(v.node)!;
    const a = after.get(v.node)!;
    const add: string[] = [];
    const del: string[] = [];
    const mine: PlannedChange[] = [];
    for (const [mac, remote] of Object.entries(a)) {
      if (b[mac] === remote) continue;
      add.push(...addLines(o.device, mac, remote));
      mine.push({ node: v.node, action: 'fdb', detail: `${mac} → VTEP ${nameOf(remote)} (${remote}) via ${o.device}` });
    }
    for (const mac of Object.keys(b).filter((m) => !(m in a))) {
      del.push(...delLines(o.device, mac));
      mine.push({ node: v.node, action: 'fdb-remove', detail: `${mac} is local: off ${o.device}, the bridge learns it on ${v.port}` });
    }
    if (!mine.length) continue;
    updates.push({ node: v.node, detail: mine.map((c) => c.detail).join('; '), add, del });
    changes.push(...mine);
  }
  return { updates, changes };
}

export function overlayPlan(t: Topology, s: L2OverlaySettings, w: WorkloadSpec, from: string, to: string, placement: Placement): MovePlan<L2OverlayData> {
  const o = overlayOf(t, s);
  const dst = vtepOf(t, o, to);
  if (!dst) throw new LabError(`${to} is on none of the overlay's LANs (${o.vteps.map((v) => v.lan).join(', ')})`);
  const port = workloadPort(nodeByName(t, to)!, w);
  if (!port) throw new LabError(`${to} has no interface in ${w.name}'s subnet ${w.ipv4}`);
  const address = w.ipv4.split('/')[0]!;
  const home = w.gateway ? gatewaysOn(t, o, w.gateway)[0]?.node : undefined;
  const exit = s.gateway === 'anycast' || !home ? dst.node : home;
  let diff: ReturnType<typeof fdbDiff>;
  if (s.fdb === 'static') {
    diff = fdbDiff(o, fdbStates(t, o, { ...placement, [w.name]: from }), fdbStates(t, o, { ...placement, [w.name]: to }));
  } else {
    // Nothing to push: listed so that the dry run says where each VTEP will find the MAC.
    const changes = o.vteps.map((v) => ({ node: v.node, action: 'learn', detail: v === dst ? `${w.mac} on ${v.port}, from its announcement` : `${w.mac} behind ${dst.node} (${dst.address}), from its announcement over ${o.device}` }));
    diff = { updates: [], changes };
  }
  return {
    strategy: 'l2-overlay',
    workload: w.name,
    from,
    to,
    trigger: s.trigger,
    port,
    changes: diff.changes,
    data: { mac: w.mac, address, device: o.device, fdb: s.fdb, updates: diff.updates, at: dst.node, vteps: o.vteps.map((v) => v.node), exit },
  };
}
