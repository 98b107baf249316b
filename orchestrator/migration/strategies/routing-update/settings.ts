// Routing update's settings (`migration.routing-update`) and the checks that make a lab
// whose routers cannot form BGP sessions, or a workload with no router to announce it, a
// validation error rather than a lab that never converges.
import type { Topology } from '../../../topology/model.js';
import { workloadPort } from '../../../topology/workloads.js';
import type { SettingsReport, Trigger } from '../../strategy-types.js';
import { bgpSpeakers, gatewaysAt, routersOf } from './peers.js';

export type Timers = 'fast' | 'default';

export interface RoutingUpdateSettings {
  protocol: 'bgp';
  trigger: Trigger;
  timers: Timers;
}

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    protocol: {
      description: 'The routing protocol the routers run: bgp (BIRD, eBGP with one private AS per router, sessions between routers that share a link).',
      enum: ['bgp'],
    },
    trigger: {
      description: "announcement: the destination's gateway announces the workload's /32 (and the source's withdraws it) when the workload's RARP/gratuitous ARP shows at the destination; orchestrator: when the driver reports the move complete.",
      enum: ['announcement', 'orchestrator'],
    },
    timers: {
      description: 'fast: BGP hold 3 s, keepalive 1 s, connect delay 1 s (sessions up in about a second); default: BIRD\'s own (hold 240 s, keepalive 80 s, connect delay 5 s). Updates go out at once either way.',
      enum: ['fast', 'default'],
    },
  },
};

export function parseSettings(raw: any): RoutingUpdateSettings {
  return { protocol: raw?.protocol ?? 'bgp', trigger: raw?.trigger ?? 'announcement', timers: raw?.timers ?? 'fast' };
}

/** A move's overrides: only the trigger; the protocol and its timers belong to the running lab. */
export function withOverrides(s: RoutingUpdateSettings, raw: any): RoutingUpdateSettings {
  return { ...s, ...(raw?.trigger ? { trigger: raw.trigger } : {}) };
}

export function checkOverrides(raw: any, report: SettingsReport): void {
  for (const k of ['protocol', 'timers']) if (raw?.[k] !== undefined) report([k], `${k} is set up with the lab`, 'set it in the topology, under migration.routing-update');
}

export function checkSettings(t: Topology, report: SettingsReport): void {
  const routers = routersOf(t);
  if (!routers.length) return report(['migration', 'routing-update'], `topology ${t.name} has no router to run BGP`, 'routing-update needs routers (kind: router or edge-router)');
  const { speakers, unpeerable } = bgpSpeakers(t);
  for (const u of unpeerable) report(['nodes', u.router, 'interfaces', u.iface], `${u.router}:${u.iface} shares a link with ${u.peer} but no subnet, so they cannot form a BGP session`, `give both an address in one subnet`);
  for (const s of speakers) {
    if (s.sessions.length || unpeerable.some((u) => u.router === s.router)) continue;
    report(['nodes', s.router], `${s.router} has no BGP neighbour: it shares no link with another router`, 'routing-update runs BGP between routers on a common link');
  }
  // Wherever a workload can run, a router on that LAN must announce it.
  for (const w of t.workloads) {
    for (const hv of t.nodes.filter((n) => n.kind === 'hypervisor')) {
      const port = workloadPort(hv, w);
      if (port && !gatewaysAt(t, w, hv.name).length) report(['nodes', hv.name, 'interfaces', port], `no router on the LAN of ${hv.name}:${port} has an address in ${w.ipv4}, so none can announce ${w.name} there`, `give that LAN's gateway an address in ${w.ipv4} (the workload's gateway${w.gateway ? ` ${w.gateway}` : ''})`);
    }
  }
}
