// Reads udp-recv's binary log (format in agents/udp-probe/probe.h: keep both in step).
import { ProbeError } from './errors.js';

const MAGIC = 'WLPRLOG1';
const HEADER_BYTES = 64;
const RECORD_BYTES = 24;
const FLAG_KERNEL_TIMESTAMPS = 1;

/** One stream's arrivals in log order; times are CLOCK_REALTIME epoch ms. */
export interface Arrivals {
  seq: Uint32Array;
  sendMs: Float64Array;
  recvMs: Float64Array;
}

export interface ArrivalLog {
  startedMs: number;
  kernelTimestamps: boolean;
  /** By stream id (one per sender). */
  streams: Map<number, Arrivals>;
  /** Bytes of a last record cut short (receiver killed mid-write); ignored. */
  truncatedBytes: number;
}

/** int64 nanoseconds → ms without BigInt: hi·2³²/10⁶ + lo/10⁶ keeps ~0.25 µs precision. */
function nsToMs(buf: Buffer, offset: number): number {
  return buf.readInt32LE(offset + 4) * 4294.967296 + buf.readUInt32LE(offset) / 1e6;
}

export function parseArrivalLog(buf: Buffer, name: string): ArrivalLog {
  if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new ProbeError(`${name}: not a udp-recv log (no ${MAGIC} header)`);
  }
  const recordBytes = buf.readUInt32LE(8);
  if (recordBytes !== RECORD_BYTES) throw new ProbeError(`${name}: record size ${recordBytes}, this warplab reads ${RECORD_BYTES}`);
  const count = Math.floor((buf.length - HEADER_BYTES) / RECORD_BYTES);
  const perStream = new Map<number, number>();
  for (let i = 0, o = HEADER_BYTES + 4; i < count; i++, o += RECORD_BYTES) {
    const s = buf.readUInt32LE(o);
    perStream.set(s, (perStream.get(s) ?? 0) + 1);
  }
  const streams = new Map<number, Arrivals & { fill: number }>();
  for (const [s, n] of perStream) streams.set(s, { seq: new Uint32Array(n), sendMs: new Float64Array(n), recvMs: new Float64Array(n), fill: 0 });
  for (let i = 0, o = HEADER_BYTES; i < count; i++, o += RECORD_BYTES) {
    const a = streams.get(buf.readUInt32LE(o + 4))!;
    a.seq[a.fill] = buf.readUInt32LE(o);
    a.sendMs[a.fill] = nsToMs(buf, o + 8);
    a.recvMs[a.fill] = nsToMs(buf, o + 16);
    a.fill++;
  }
  return {
    startedMs: nsToMs(buf, 16),
    kernelTimestamps: (buf.readUInt32LE(12) & FLAG_KERNEL_TIMESTAMPS) !== 0,
    streams: new Map([...streams].map(([s, { seq, sendMs, recvMs }]) => [s, { seq, sendMs, recvMs }])),
    truncatedBytes: (buf.length - HEADER_BYTES) % RECORD_BYTES,
  };
}

export interface ArrivalRecord {
  seq: number;
  stream: number;
  sendMs: number;
  recvMs: number;
}

/** Writes the same format udp-recv writes (for tools and tests that make logs). */
export function encodeArrivalLog(records: readonly ArrivalRecord[], startedMs: number, kernelTimestamps = true): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES + records.length * RECORD_BYTES);
  const ns = (ms: number) => BigInt(Math.round(ms * 1e6));
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(RECORD_BYTES, 8);
  buf.writeUInt32LE(kernelTimestamps ? FLAG_KERNEL_TIMESTAMPS : 0, 12);
  buf.writeBigInt64LE(ns(startedMs), 16);
  records.forEach((r, i) => {
    const o = HEADER_BYTES + i * RECORD_BYTES;
    buf.writeUInt32LE(r.seq, o);
    buf.writeUInt32LE(r.stream, o + 4);
    buf.writeBigInt64LE(ns(r.sendMs), o + 8);
    buf.writeBigInt64LE(ns(r.recvMs), o + 16);
  });
  return buf;
}
