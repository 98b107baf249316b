// One BIRD configuration per router, from the topology and where the workloads run when the
// lab comes up. BIRD exports only the workloads' /32s (static protocols, one per workload,
// enabled where it runs) and BGP routes, and writes only BGP routes to the kernel: the
// topology's static and connected routes stay as they are (`learn off`: BIRD leaves routes it
// did not make alone), and the /32s win over them by longest prefix.
import { join } from 'node:path';
import type { Topology } from '../../../topology/model.js';
import type { Placement } from '../../strategy-types.js';
import { announceProtocol, announcers, bgpSpeakers, gatewaysAt, symbol, type BgpSpeaker } from './peers.js';
import type { Timers } from './settings.js';

/** Where a router's BIRD keeps its files, in the lab directory of the router's machine. */
export function birdFiles(labDir: string, router: string) {
  const base = join(labDir, 'bird', router);
  // BIRD logs to stderr, which the lab keeps in `log`.
  return { conf: `${base}.conf`, socket: `${base}.ctl`, pid: `${base}.pid`, log: `${base}.log` };
}

/** Fast: a session is up about a second after start, and a dead peer is noticed in 3 s. */
const TIMERS: Record<Timers, string> = {
  fast: 'hold time 3; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 2;',
  default: '',
};

function staticProtocols(t: Topology, router: string, placement: Placement): string[] {
  return t.workloads.flatMap((w) => {
    const gw = announcers(t, w).find((g) => g.router === router);
    if (!gw) return [];
    // Only the gateways where the workload runs announce it; the others hold it ready.
    const here = gatewaysAt(t, w, placement[w.name] ?? w.on).some((g) => g.router === router);
    return [`protocol static ${announceProtocol(w)} {\n${here ? '' : '  disabled;\n'}  ipv4;\n  route ${w.ipv4.split('/')[0]}/32 via "${gw.iface}";\n}\n`];
  });
}

export function birdConfig(t: Topology, s: BgpSpeaker, timers: Timers, placement: Placement): string {
  return `# warplab routing-update: ${s.router}, AS ${s.as}
log stderr all;
router id ${s.routerId};
protocol device { }
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
}
${staticProtocols(t, s.router, placement).join('')}template bgp peer {
  local as ${s.as};
  ${TIMERS[timers]}
  ipv4 { import all; export where source = RTS_STATIC || source = RTS_BGP; };
}
${s.sessions.map((x) => `protocol bgp ${symbol(`${x.peer}_${x.iface}`)} from peer {\n  neighbor ${x.address} as ${x.peerAs};\n  source address ${x.local};\n  interface "${x.iface}";\n}\n`).join('')}`;
}

export function birdConfigs(t: Topology, timers: Timers, placement: Placement): Map<string, string> {
  return new Map(bgpSpeakers(t).speakers.map((s) => [s.router, birdConfig(t, s, timers, placement)]));
}
