// L2 overlay's settings (`migration.l2-overlay`) and the checks that make an overlay that
// cannot work a validation error: the DC LANs it joins must be one subnet, each with one
// gateway to be its VTEP, the VTEPs must route to each other over a WAN that carries the
// LANs' frames plus the VXLAN header, and the gateways must be what `gateway:` says.
import { ForwardingModel } from '../../../topology/forwarding.js';
import { contains, networkOf, parseAddr, parseCidr } from '../../../topology/ipv4.js';
import { isRouter, nodeByName, type Topology } from '../../../topology/model.js';
import { segmentsOf, type Segment } from '../../../topology/segments.js';
import type { SettingsReport, Trigger } from '../../strategy-types.js';

export interface L2OverlaySettings {
  /** Where the VXLAN tunnels end: the DC gateways (hypervisors: not supported yet). */
  vtep: 'gateways' | 'hypervisors';
  /** static: warplab pushes each workload MAC's FDB entry (Kitazume §5.2's controller); learn: flood and learn. */
  fdb: 'static' | 'learn';
  /** anycast: the same gateway IP and MAC in every DC; home: one gateway, in the home DC (the tromboning path). */
  gateway: 'home' | 'anycast';
  vni: number;
  trigger: Trigger;
  /** The DC LANs joined into one segment; absent: every LAN a workload may run on. */
  lans?: string[];
}

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    vtep: { description: 'Where the VXLAN tunnel endpoints sit: gateways (each DC LAN\'s router; hypervisors are not supported yet).', enum: ['gateways', 'hypervisors'] },
    fdb: { description: "static: warplab pushes every VTEP's FDB entry for a moved workload's MAC (the controller of Kitazume et al. §5.2); learn: flood-and-learn, head-end replication to the other VTEPs.", enum: ['static', 'learn'] },
    gateway: { description: "anycast: the workloads' gateway has the same IP and MAC in every DC (ICOIN §V-G); home: only the home DC has it, so a moved workload's traffic trombones back through the tunnel.", enum: ['home', 'anycast'] },
    vni: { description: 'The VXLAN network identifier of the joined segment.', type: 'integer', minimum: 1, maximum: 16777215 },
    trigger: { description: "announcement: the static FDB entries move on the workload's RARP/gratuitous ARP at the destination; orchestrator: when the driver reports the move complete.", enum: ['announcement', 'orchestrator'] },
    lans: { description: 'The DC LANs to join (default: every lan a workload can run on).', type: 'array', items: { type: 'string' }, minItems: 2 },
  },
};

export function parseSettings(raw: any): L2OverlaySettings {
  return { vtep: raw?.vtep ?? 'gateways', fdb: raw?.fdb ?? 'static', gateway: raw?.gateway ?? 'anycast', vni: raw?.vni ?? 100, trigger: raw?.trigger ?? 'announcement', ...(raw?.lans ? { lans: raw.lans } : {}) };
}

/** A move may pick its trigger; everything else is built with the lab. */
export function withOverrides(s: L2OverlaySettings, raw: any): L2OverlaySettings {
  return raw?.trigger ? { ...s, trigger: raw.trigger } : s;
}

export function checkOverrides(_t: Topology, raw: any, report: SettingsReport): void {
  for (const k of Object.keys(raw ?? {}).filter((x) => x !== 'trigger')) report([k], `${k} is set up with the lab`, 'set it in the topology, under migration.l2-overlay');
}

/** VXLAN over IPv4: outer IPv4 (20) + UDP (8) + VXLAN (8) + the inner Ethernet header (14). */
export const VXLAN_OVERHEAD = 50;
const DEFAULT_MTU = 1500;

/** One tunnel endpoint: a DC LAN's gateway. */
export interface Vtep {
  node: string;
  lan: string;
  /** Its interface on the LAN (bridged with the VXLAN device). */
  port: string;
  /** Its underlay address: the first address of its other interfaces. */
  address: string;
}

export interface Overlay {
  vni: number;
  /** The VXLAN device on every VTEP. */
  device: string;
  subnet: string;
  /** The largest frame the LANs carry: the VXLAN device gets it, the WAN must carry it plus the header. */
  mtu: number;
  vteps: Vtep[];
}

export const deviceOf = (vni: number) => `vxlan${vni}`;

const subnetOf = (seg: Segment) => seg.lan?.subnet ?? seg.members.flatMap((m) => m.addrs.map(networkOf))[0];

/** LANs a workload can run on: those where a hypervisor has an address in a workload's subnet. */
function workloadLans(t: Topology, segs: Segment[]): string[] {
  const addrs = t.workloads.flatMap((w) => parseAddr(w.ipv4.split('/')[0]!) ?? []);
  return segs.filter((s) => s.lan && s.members.some((m) => m.node.kind === 'hypervisor' && m.addrs.some((c) => addrs.some((a) => contains(c, a))))).map((s) => s.lan!.name);
}

/** The smallest MTU along a path of nodes (each hop: the link's mtu, else its ends' interface mtu, else 1500). */
function pathMtu(t: Topology, segs: Segment[], path: string[]): { mtu: number; link?: number } {
  let worst: { mtu: number; link?: number } = { mtu: Infinity };
  for (let i = 1; i < path.length; i++) {
    const seg = segs.find((s) => s.members.some((m) => m.node.name === path[i - 1]) && s.members.some((m) => m.node.name === path[i]));
    const ends = seg?.members.filter((m) => m.node.name === path[i - 1] || m.node.name === path[i]) ?? [];
    for (const m of ends) {
      const mtu = t.links[m.link]?.mtu ?? m.node.interfaces.find((x) => x.name === m.iface)?.mtu ?? DEFAULT_MTU;
      if (mtu < worst.mtu) worst = { mtu, link: m.link };
    }
  }
  return worst;
}

/**
 * The overlay this topology gets. With `report`, says why a part cannot work (at
 * file:line:col via the path) and leaves that part out; without, assumes a checked topology.
 */
export function overlayOf(t: Topology, s: L2OverlaySettings, report: SettingsReport = () => {}): Overlay {
  const base = ['migration', 'l2-overlay'];
  const segs = segmentsOf(t);
  const lans = s.lans ?? workloadLans(t, segs);
  const overlay: Overlay = { vni: s.vni, device: deviceOf(s.vni), subnet: '', mtu: DEFAULT_MTU, vteps: [] };
  if (lans.length < 2) report(s.lans ? [...base, 'lans'] : base, `the overlay joins two or more DC LANs; ${lans.length ? `only ${lans[0]} holds workloads` : 'no LAN holds a workload'}`, 'list them in migration.l2-overlay.lans');
  lans.forEach((name, i) => {
    const at = s.lans ? [...base, 'lans', i] : base;
    const seg = segs.find((x) => x.lan?.name === name);
    if (!seg) return report(at, `${name} is not a lan of this topology`, `lans: ${segs.flatMap((x) => x.lan?.name ?? []).join(', ')}`);
    const subnet = subnetOf(seg);
    if (!overlay.subnet) overlay.subnet = subnet ?? '';
    else if (subnet !== overlay.subnet) return report(at, `${name} is ${subnet ?? 'without a subnet'} but ${overlay.vteps[0]?.lan ?? lans[0]} is ${overlay.subnet}: LANs joined into one segment need the same subnet`, 'the workload keeps its address and MAC, so every DC LAN it moves to must be the same subnet');
    overlay.mtu = Math.max(overlay.mtu, ...seg.members.map((m) => t.links[m.link]?.mtu ?? m.node.interfaces.find((x) => x.name === m.iface)?.mtu ?? DEFAULT_MTU));
    const gws = seg.members.filter((m) => isRouter(m.node.kind));
    if (gws.length !== 1) return report(at, `${name} has ${gws.length ? `${gws.length} routers (${gws.map((m) => m.node.name).join(', ')})` : 'no router'}: vtep: gateways needs exactly one gateway per DC LAN to be its VTEP`);
    const gw = gws[0]!;
    const wan = gw.node.interfaces.find((x) => x.name !== gw.iface && x.ipv4.length);
    if (!wan) return report(at, `${gw.node.name}, ${name}'s gateway, has no address outside the LAN for the tunnel`, 'give it a WAN interface with an address');
    overlay.vteps.push({ node: gw.node.name, lan: name, port: gw.iface, address: wan.ipv4[0]!.split('/')[0]! });
  });
  return overlay;
}

/** The gateways of the workloads' subnet among the VTEPs: `vtep node → its gateway address and MAC`. */
export function gatewaysOn(t: Topology, o: Overlay, gateway: string): { node: string; mac?: string }[] {
  return o.vteps.flatMap((v) => {
    const i = nodeByName(t, v.node)!.interfaces.find((x) => x.name === v.port)!;
    return i.ipv4.some((a) => a.split('/')[0] === gateway) ? [{ node: v.node, ...(i.mac ? { mac: i.mac.toLowerCase() } : {}) }] : [];
  });
}

export function checkSettings(t: Topology, s: L2OverlaySettings, report: SettingsReport): void {
  const base = ['migration', 'l2-overlay'];
  if (s.vtep === 'hypervisors') {
    // A hypervisor's only routed address is on the VM LAN the overlay extends: its tunnel would have to run through the segment it carries.
    report([...base, 'vtep'], 'vtep: hypervisors is not supported yet: the hypervisors\' routed addresses are on the VM LANs the overlay joins, and warplab does not yet give them a separate underlay interface', 'use vtep: gateways');
    return;
  }
  const o = overlayOf(t, s, report);
  const segs = segmentsOf(t);
  const fwd = new ForwardingModel(t);
  for (const a of o.vteps) {
    for (const b of o.vteps.filter((x) => x !== a)) {
      const d = fwd.deliver(a.node, b.address);
      if (!d.ok || d.path[d.path.length - 1] !== b.node) {
        report([...base, 'vtep'], `VTEP ${a.node} has no routed path to VTEP ${b.node} (${b.address}): ${d.reason ?? `it reaches ${d.path[d.path.length - 1]}`}`, 'add routes between the DC gateways, or use routing: auto');
        continue;
      }
      const p = pathMtu(t, segs, d.path);
      if (p.mtu < o.mtu + VXLAN_OVERHEAD) {
        report(p.link !== undefined ? ['links', p.link] : [...base, 'vtep'], `the WAN path ${d.path.join(' → ')} carries ${p.mtu}-byte packets: VXLAN needs ${o.mtu + VXLAN_OVERHEAD} for the LANs' ${o.mtu}-byte frames plus its ${VXLAN_OVERHEAD}-byte header`, `set mtu: ${o.mtu + VXLAN_OVERHEAD} on the WAN links between the VTEPs (warplab raises the underlay rather than shrinking the workloads' MTU)`);
      }
    }
  }
  // The gateways are only worth checking on an overlay that exists.
  if (o.vteps.length < 2) return;
  t.workloads.forEach((w) => {
    const subnet = parseCidr(o.subnet);
    if (!w.gateway || !subnet || !contains(subnet, parseAddr(w.gateway)!)) return;
    const gws = gatewaysOn(t, o, w.gateway);
    const at = ['workloads', w.name, 'gateway'];
    if (s.gateway === 'anycast') {
      const missing = o.vteps.filter((v) => !gws.some((g) => g.node === v.node)).map((v) => v.node);
      if (missing.length) report(at, `gateway: anycast needs ${w.gateway} on every DC's gateway; ${missing.join(', ')} lack${missing.length === 1 ? 's' : ''} it`, 'give every VTEP\'s LAN interface the same gateway address and MAC, or use gateway: home');
      else if (new Set(gws.map((g) => g.mac ?? `${g.node}'s own`)).size > 1) report(at, `gateway: anycast needs one MAC for ${w.gateway}; ${gws.map((g) => `${g.node} has ${g.mac ?? 'its own'}`).join(', ')}`, 'set the same mac: on every gateway\'s LAN interface');
    } else if (gws.length !== 1) {
      report(at, `gateway: home needs ${w.gateway} in one DC only; ${gws.length ? `it is on ${gws.map((g) => g.node).join(' and ')} (that is anycast)` : 'no VTEP has it'}`, gws.length ? 'use gateway: anycast, or remove the address from the other DCs\' gateways' : undefined);
    }
  });
}
