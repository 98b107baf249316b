// The tunnel's cost on the wire, measured rather than assumed: a capture on a VTEP's WAN
// interface while probes flow, every frame to or from the workload taken apart. A tunnelled
// frame carries the workload's whole Ethernet frame; its overhead is the difference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../../../errors.js';
import type { LabHandle } from '../../../lab/handle.js';
import { parseAddr } from '../../../topology/ipv4.js';
import { nodeByName, settingsOf, type WorkloadSpec } from '../../../topology/model.js';
import { VXLAN_PORT } from './devices.js';
import { overlayOf, type L2OverlaySettings } from './settings.js';

export interface Overhead {
  /** Where it was captured. */
  node: string;
  iface: string;
  /** Frames of the workload's traffic inside the tunnel, and outside it (client ↔ home gateway). */
  tunnelled: number;
  plain: number;
  /** Mean bytes per tunnelled frame on the wire, and of the workload's frame inside it. */
  wireBytes: number;
  innerBytes: number;
  /** Mean of wire − inner per tunnelled frame. */
  overheadBytes: number;
  /** Mean bytes per plain frame of the workload's traffic on the same link (none: 0). */
  plainBytes: number;
}

/** Frame lengths on the wire, from a classic pcap file (either byte order, µs or ns). */
export function pcapFrames(buf: Buffer): { len: number; data: Buffer }[] {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new LabError('not a pcap file');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const out: { len: number; data: Buffer }[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const incl = u32(o + 8);
    out.push({ len: u32(o + 12), data: buf.subarray(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  return out;
}

const ipv4At = (f: Buffer, eth: number) => (f.length >= eth + 34 && f.readUInt16BE(eth + 12) === 0x0800 ? { src: f.readUInt32BE(eth + 26), dst: f.readUInt32BE(eth + 30), ihl: (f[eth + 14]! & 0xf) * 4, proto: f[eth + 23]! } : undefined);

/** A frame as the overhead sees it: the workload's, tunnelled (with where its inner frame starts) or plain; or not the workload's. */
export function classify(f: Buffer, address: number): { tunnelled: number } | 'plain' | undefined {
  const ip = ipv4At(f, 0);
  if (!ip) return undefined;
  const udp = 14 + ip.ihl;
  if (ip.proto === 17 && f.length >= udp + 16 && f.readUInt16BE(udp + 2) === VXLAN_PORT) {
    const inner = udp + 8 + 8;
    const x = ipv4At(f, inner);
    return x && (x.src >>> 0 === address || x.dst >>> 0 === address) ? { tunnelled: inner } : undefined;
  }
  return ip.src >>> 0 === address || ip.dst >>> 0 === address ? 'plain' : undefined;
}

export function overheadOf(frames: { len: number; data: Buffer }[], address: string): Omit<Overhead, 'node' | 'iface'> {
  const a = parseAddr(address)!;
  let wire = 0, inner = 0, plainBytes = 0, tunnelled = 0, plain = 0;
  for (const f of frames) {
    const c = classify(f.data, a);
    if (c === 'plain') {
      plain++;
      plainBytes += f.len;
    } else if (c) {
      tunnelled++;
      wire += f.len;
      inner += f.len - c.tunnelled;
    }
  }
  const mean = (x: number, n: number) => (n ? Math.round((x / n) * 10) / 10 : 0);
  return { tunnelled, plain, wireBytes: mean(wire, tunnelled), innerBytes: mean(inner, tunnelled), overheadBytes: mean(wire - inner, tunnelled), plainBytes: mean(plainBytes, plain) };
}

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
  const file = join(lab.path, `overhead-${vtep}-${Date.now()}.pcap`);
  const address = w.ipv4.split('/')[0]!;
  // -U: every packet reaches the file before tcpdump is stopped.
  await lab.shell(vtep).exec(['timeout', '-s', 'INT', String(seconds), 'tcpdump', '-i', iface, '-n', '-U', '-s', '256', '-w', file, `udp and (port ${VXLAN_PORT} or host ${address})`], { check: false });
  return { node: vtep, iface, ...overheadOf(pcapFrames(readFileSync(file)), address) };
}
