// The tunnel's cost on the wire, measured on a VTEP's WAN interface (probe/wire-overhead.ts).
import { LabError } from '../../../errors.js';
import type { LabHandle } from '../../../lab/handle.js';
import { wireOverhead, type Overhead } from '../../../probe/wire-overhead.js';
import { nodeByName, settingsOf, type WorkloadSpec } from '../../../topology/model.js';
import { overlayOf, type L2OverlaySettings } from './settings.js';

/**
 * Captures `seconds` on `vtep`'s WAN interface (the one with its tunnel address) and measures
 * the tunnel's bytes per frame of `w`'s traffic. Something must send to or from `w` meanwhile
 * (its probe streams), and `w` must be away from the DC whose gateway the clients reach.
 */
export async function tunnelOverhead(lab: LabHandle, w: WorkloadSpec, vtep: string, seconds = 2): Promise<Overhead> {
  const o = overlayOf(lab.topology, settingsOf<L2OverlaySettings>(lab.topology, 'l2-overlay'));
  const v = o.vteps.find((x) => x.node === vtep);
  if (!v) throw new LabError(`${vtep} is not a VTEP of the overlay (VTEPs: ${o.vteps.map((x) => x.node).join(', ')})`);
  const iface = nodeByName(lab.topology, vtep)!.interfaces.find((i) => i.ipv4.some((a) => a.split('/')[0] === v.address))!.name;
  return wireOverhead(lab, vtep, iface, { address: w.ipv4.split('/')[0]! }, seconds);
}
