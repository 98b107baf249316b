// What each VTEP gets when the lab comes up: a VXLAN device on its LAN's bridge, the other
// VTEPs for flooding, and (anycast) every workload's neighbour entry. Pure text, run by the
// lab extension; all of it lives in the VTEP's namespace and goes with it at `down`.
import { VXLAN_PORT } from '../../../probe/wire-overhead.js';
import { contains, parseAddr, parseCidr } from '../../../topology/ipv4.js';
import type { Topology } from '../../../topology/model.js';
import type { L2OverlaySettings, Overlay, Vtep } from './settings.js';

/** `sh -ec` lines, after the LAN port became bridge `bridge` (workload/port.ts). */
export function vtepScript(t: Topology, o: Overlay, s: L2OverlaySettings, v: Vtep, bridge: string, mark: string): string {
  const dev = o.device;
  const lines = [
    `ip link add ${dev} type vxlan id ${o.vni} local ${v.address} dstport ${VXLAN_PORT} ${s.fdb === 'learn' ? 'learning' : 'nolearning'}`,
    // The LANs' own frame size: the WAN links carry the 50-byte header on top (checked at validate).
    `ip link set ${dev} mtu ${o.mtu} alias "${mark}" master ${bridge}`,
    // static: only the controller (warplab) says which MACs are across the tunnel.
    ...(s.fdb === 'static' ? [`bridge link set dev ${dev} learning off`] : []),
    `ip link set ${dev} up`,
    // Broadcast, unknown unicast and multicast: head-end replication to every other VTEP.
    ...o.vteps.filter((x) => x !== v).map((x) => `bridge fdb append 00:00:00:00:00:00 dev ${dev} dst ${x.address}`),
  ];
  if (s.gateway === 'anycast') {
    // A gateway's ARP request for a workload in another DC is answered to the shared gateway
    // MAC, which that DC's own gateway owns: the asker never hears it. Warplab knows every
    // workload's IP and MAC (as EVPN's MAC/IP routes would say), so each gateway has them.
    const subnet = parseCidr(o.subnet)!;
    for (const w of t.workloads.filter((x) => contains(subnet, parseAddr(x.ipv4.split('/')[0]!)!))) lines.push(`ip neigh replace ${w.ipv4.split('/')[0]} lladdr ${w.mac} dev ${bridge} nud permanent`);
  }
  return lines.join('\n') + '\n';
}
