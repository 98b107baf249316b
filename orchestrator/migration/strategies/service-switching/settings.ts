// Service switching's settings (`migration.service-switching`) and the checks that make a
// plan that cannot work a validation error: every care-of address free, in a foreign network
// with exactly one router (the foreign service switch), reachable both ways.
import { contains, formatAddr, networkOf, parseAddr, parseCidr } from '../../../topology/ipv4.js';
import { ForwardingModel } from '../../../topology/forwarding.js';
import { isRouter, nodeByName, type Topology, type WorkloadSpec } from '../../../topology/model.js';
import { segmentsOf, type Segment } from '../../../topology/segments.js';
import type { SettingsReport, Trigger } from '../../strategy-types.js';

export interface ServiceSwitchingSettings {
  /** Workload → its care-of addresses, one per foreign network it may move to. */
  careOf: Record<string, string[]>;
  /** Routers that translate as well as the home switch (the paper's R1); none: Mobile-IP-like detour via home. */
  edge: string[];
  trigger: Trigger;
}

const address = { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' };

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'care-of': {
      description: "Workload → care-of address (or list, one per foreign network): its address in a foreign network, known only to the routers.",
      type: 'object',
      additionalProperties: { oneOf: [{ ...address, description: 'an address' }, { type: 'array', items: address, minItems: 1, description: 'a list of addresses' }] },
    },
    edge: {
      description: "Routers that also translate the home address to the care-of address (the paper's edge router R1). Without them traffic from outside detours via the home router, as in Mobile IP.",
      type: 'array',
      items: { type: 'string' },
    },
    trigger: {
      description: "announcement: warplab switches when the workload's RARP/gratuitous ARP shows at the destination; orchestrator: when the driver reports the move complete (the paper's external orchestrator).",
      enum: ['announcement', 'orchestrator'],
    },
  },
};

/** A move's overrides: the edge switches and the trigger; care-of addresses belong to the lab. */
export function withOverrides(s: ServiceSwitchingSettings, raw: any): ServiceSwitchingSettings {
  return { ...s, ...(raw?.edge ? { edge: raw.edge } : {}), ...(raw?.trigger ? { trigger: raw.trigger } : {}) };
}

export function checkOverrides(t: Topology, raw: any, report: SettingsReport): void {
  if (raw?.['care-of']) report(['care-of'], 'care-of addresses are set up with the lab', 'set them in the topology, under migration.service-switching');
  checkEdge(t, raw?.edge ?? [], [], report);
}

function checkEdge(t: Topology, edge: string[], base: (string | number)[], report: SettingsReport): void {
  edge.forEach((name, i) => {
    const n = nodeByName(t, name);
    if (!n || !isRouter(n.kind)) report([...base, 'edge', i], n ? `${name} is a ${n.kind}; edge service switches are routers` : `unknown node "${name}"`, `routers: ${t.nodes.filter((x) => isRouter(x.kind)).map((x) => x.name).join(', ')}`);
  });
}

export function parseSettings(raw: any): ServiceSwitchingSettings {
  const careOf = Object.fromEntries(Object.entries((raw?.['care-of'] ?? {}) as Record<string, string | string[]>).map(([w, a]) => [w, Array.isArray(a) ? a : [a]]));
  return { careOf, edge: raw?.edge ?? [], trigger: raw?.trigger ?? 'announcement' };
}

/** The LAN segment holding `addr`'s subnet, and its routers with an address there (the service switches). */
export function networkOfAddress(t: Topology, addr: string): { seg: Segment; prefix: string; switches: { node: string; iface: string; address: string }[] } | undefined {
  const a = parseAddr(addr);
  if (a === undefined) return undefined;
  for (const seg of segmentsOf(t)) {
    const hit = seg.members.flatMap((m) => m.addrs).find((c) => contains(c, a));
    if (!hit) continue;
    const switches = seg.members.filter((m) => isRouter(m.node.kind)).flatMap((m) => m.addrs.filter((c) => contains(c, a)).map((c) => ({ node: m.node.name, iface: m.iface, address: formatAddr(c.addr) })));
    return { seg, prefix: networkOf(hit), switches };
  }
  return undefined;
}

export const homeAddress = (w: WorkloadSpec) => w.ipv4.split('/')[0]!;

export function checkSettings(t: Topology, s: ServiceSwitchingSettings, report: SettingsReport): void {
  const base = ['migration', 'service-switching'];
  const taken = new Map<string, string>();
  for (const n of t.nodes) for (const i of n.interfaces) for (const a of i.ipv4) taken.set(a.split('/')[0]!, `${n.name}:${i.name}`);
  for (const w of t.workloads) taken.set(homeAddress(w), `workload ${w.name}`);
  const fwd = new ForwardingModel(t);
  checkEdge(t, s.edge, base, report);
  for (const [name, addrs] of Object.entries(s.careOf)) {
    const at = [...base, 'care-of', name];
    const w = t.workloads.find((x) => x.name === name);
    if (!w) {
      report(at, `unknown workload "${name}"`, t.workloads.length ? `workloads: ${t.workloads.map((x) => x.name).join(', ')}` : 'the topology declares no workloads');
      continue;
    }
    const home = networkOfAddress(t, homeAddress(w));
    if (home?.switches.length !== 1) {
      report(at, `${name}'s home network ${home?.prefix ?? w.ipv4} has ${home?.switches.length ? `${home.switches.length} routers (${home.switches.map((x) => x.node).join(', ')})` : 'no router'}: service switching needs exactly one home service switch there`);
      continue;
    }
    const seen = new Set<string>();
    addrs.forEach((addr, i) => {
      const where = Array.isArray(addrs) && addrs.length > 1 ? [...at, i] : at;
      const owner = taken.get(addr);
      if (owner) return report(where, `care-of ${addr} is taken by ${owner}`, 'a care-of address must be free in its network');
      taken.set(addr, `${name}'s care-of address`);
      const net = networkOfAddress(t, addr);
      if (!net) return report(where, `care-of ${addr} lies in no network of topology ${t.name}`, 'pick a free address in the foreign network the workload moves to');
      if (contains(parseCidr(w.ipv4)!, parseAddr(addr)!)) return report(where, `care-of ${addr} is in ${name}'s home network ${net.prefix}`, 'a care-of address belongs to a foreign network');
      if (seen.has(net.prefix)) return report(where, `${name} has two care-of addresses in ${net.prefix}`, 'one per foreign network');
      seen.add(net.prefix);
      if (net.switches.length !== 1) return report(where, `${net.prefix} (care-of ${addr}) has ${net.switches.length ? `${net.switches.length} routers` : 'no router'}: service switching needs exactly one foreign service switch there`);
      const foreign = net.switches[0]!;
      const homeSwitch = home.switches[0]!;
      // The proxy ARP on the foreign LAN answers only for what its switch routes elsewhere, and the home switch sends M's traffic toward the care-of.
      if (!fwd.route(foreign.node, homeSwitch.address)) report(where, `${foreign.node} (foreign switch for ${addr}) has no route to ${name}'s home network ${home.prefix}`, 'add a route, or use routing: auto');
      if (!fwd.route(homeSwitch.node, addr)) report(where, `${homeSwitch.node} (home switch of ${name}) has no route to the care-of ${addr}`, 'add a route, or use routing: auto');
    });
  }
}
