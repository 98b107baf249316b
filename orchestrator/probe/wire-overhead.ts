// Bytes on the wire per packet of a workload's traffic, measured rather than assumed: a
// capture on one interface while probes flow, every frame to or from the workload taken
// apart. A VXLAN-tunnelled frame carries the workload's whole Ethernet frame; its overhead is
// the difference. A plain frame (NAT, translation, routing) has none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import { parseAddr } from '../topology/ipv4.js';

/** VXLAN's IANA port, which warplab's tunnels use. */
export const VXLAN_PORT = 4789;

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

const ipv4At = (f: Buffer, eth: number) => (f.length >= eth + 34 && f.readUInt16BE(eth + 12) === 0x0800 ? { src: f.readUInt32BE(eth + 26) >>> 0, dst: f.readUInt32BE(eth + 30) >>> 0, ihl: (f[eth + 14]! & 0xf) * 4, proto: f[eth + 23]! } : undefined);

/**
 * Which packets are the workload's: to or from its address, or (where a translator or NAT
 * rewrites the address on the wire) UDP to or from one of its ports.
 */
export interface Selector {
  address?: string;
  ports?: readonly number[];
}

function selects(f: Buffer, eth: number, sel: { address?: number; ports: readonly number[] }): boolean {
  const ip = ipv4At(f, eth);
  if (!ip) return false;
  if (sel.address !== undefined && (ip.src === sel.address || ip.dst === sel.address)) return true;
  const udp = eth + 14 + ip.ihl;
  return ip.proto === 17 && f.length >= udp + 4 && (sel.ports.includes(f.readUInt16BE(udp)) || sel.ports.includes(f.readUInt16BE(udp + 2)));
}

/** A frame as the overhead sees it: the workload's, tunnelled (with where its inner frame starts) or plain; or not the workload's. */
export function classify(f: Buffer, sel: { address?: number; ports: readonly number[] }): { tunnelled: number } | 'plain' | undefined {
  const ip = ipv4At(f, 0);
  if (!ip) return undefined;
  const udp = 14 + ip.ihl;
  if (ip.proto === 17 && f.length >= udp + 16 && f.readUInt16BE(udp + 2) === VXLAN_PORT) {
    const inner = udp + 8 + 8;
    return selects(f, inner, sel) ? { tunnelled: inner } : undefined;
  }
  return selects(f, 0, sel) ? 'plain' : undefined;
}

export function overheadOf(frames: { len: number; data: Buffer }[], selector: Selector): Omit<Overhead, 'node' | 'iface'> {
  const sel = { ...(selector.address ? { address: parseAddr(selector.address)! } : {}), ports: selector.ports ?? [] };
  let wire = 0, inner = 0, plainBytes = 0, tunnelled = 0, plain = 0;
  for (const f of frames) {
    const c = classify(f.data, sel);
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
 * Captures `seconds` on `node`'s `iface` and measures the bytes per frame of the workload's
 * UDP traffic (tunnelled or not). Something must send meanwhile (the probe streams).
 */
export async function wireOverhead(lab: LabHandle, node: string, iface: string, selector: Selector, seconds = 2): Promise<Overhead> {
  const file = join(lab.path, `overhead-${node}-${Date.now()}.pcap`);
  // -U: every packet reaches the file before tcpdump is stopped.
  await lab.shell(node).exec(['timeout', '-s', 'INT', String(seconds), 'tcpdump', '-i', iface, '-n', '-U', '-s', '256', '-w', file, 'udp'], { check: false });
  return { node, iface, ...overheadOf(pcapFrames(readFileSync(file)), selector) };
}
