// One stream's arrivals → loss, duplicates, reordering, gaps, downtime, disruption, noise.
import { durationUs as us } from './clock.js';
import type { Arrivals } from './log.js';
import { percentile } from './stats.js';
import type { DisruptionWindow } from './timeline.js';

export interface AnalysisOptions {
  /** The sender's schedule. */
  intervalMs: number;
  windows: readonly DisruptionWindow[];
  /** Inter-arrivals above this are listed as gaps (default 3 × interval). */
  gapThresholdMs?: number;
  /** The stream is steady again once this long passes without a listed gap (default 100 ms). */
  steadyMs?: number;
  /** Packets the sender says it sent: loss then counts the tail too (else: seq range). */
  sent?: number;
  /** Receiver clock minus the reference clock (see clock.ts); subtracted from receive times. */
  clockOffsetMs?: number;
  /** When the recording stopped (reference clock, epoch ms): a stream silent from its last
   *  arrival until then is measured against it. Default: the last arrival or window end. */
  endMs?: number;
}

/** Silence between two consecutive new packets at the receiver. */
export interface Gap {
  /** Arrival of the packet before, and of the packet after (reference clock, epoch ms). */
  startMs: number;
  endMs: number;
  durationMs: number;
  seqBefore: number;
  seqAfter: number;
  /** Sequence numbers between the two that had not arrived (lost, or reordered later). */
  seqSkipped: number;
  /** Between the two packets' send times: ≈ durationMs when the sender itself was silent
   *  (VM paused), small when the network held or dropped them. */
  sendSpanMs: number;
  /** Label of the window it overlaps, if any. */
  window: string | null;
}

export interface Disruption {
  /** Last packet before the first listed gap in the window. */
  startMs: number;
  /** First packet after which the stream stayed steady for steadyMs; null if it never did. */
  endMs: number | null;
  spanMs: number | null;
  gaps: number;
  seqSkipped: number;
}

export interface WindowFigures {
  window: string;
  /** A new packet arrived after the window ended. False: the stream never came back, and
   *  downtimeMs is its silence until the end of the recording, not an earlier gap. */
  resumed: boolean;
  /** Resumed: the largest inter-arrival overlapping the window. Not resumed: last arrival →
   *  end of the recording (null when nothing arrived at all). */
  downtimeMs: number | null;
  /** The gap behind downtimeMs; null when the stream did not resume (no packet after it). */
  downtimeGap: Gap | null;
  /** The window's destination-resumed event → the first new packet after it; null without
   *  that event or without a packet after it. */
  resumeToFirstPacketMs: number | null;
  disruption: Disruption | null;
}

export interface StreamAnalysis {
  intervalMs: number;
  gapThresholdMs: number;
  steadyMs: number;
  firstMs: number | null;
  lastMs: number | null;
  /** End of the recording (see AnalysisOptions.endMs); null for an empty stream without windows. */
  endMs: number | null;
  /** Windows after which the stream never came back. */
  didNotResume: number;
  received: number;
  unique: number;
  duplicates: number;
  /** New packets that arrived after a higher sequence number (RFC 4737 sense). */
  reordered: number;
  lost: number;
  lossRatio: number;
  lossBasis: 'sender count' | 'sequence range';
  interArrival: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number } | null;
  gaps: Gap[];
  windows: WindowFigures[];
  /** Largest inter-arrival outside every window: the resolution a downtime can be trusted to. */
  noiseFloorMs: number | null;
  noiseFloorGap: Gap | null;
  /** Largest inter-arrival per time bucket (≤ ~1500 points) for plots: [start of the gap in
   *  ms since firstMs, gap ms], so a step plot holds each value across its silence. */
  series: [number, number][];
}

const SERIES_POINTS = 1500;

function overlaps(startMs: number, endMs: number, w: { startMs: number; endMs: number }): boolean {
  return startMs < w.endMs && endMs > w.startMs;
}

/** Remembers sequence numbers: a bitmap over their range, a Set when the range is sparse. */
function seqMemory(seq: Uint32Array): { firstTime: (s: number) => boolean } {
  let min = Infinity;
  let max = -Infinity;
  for (const s of seq) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const range = seq.length ? max - min + 1 : 0;
  if (range <= 16 * seq.length + 1024) {
    const bits = new Uint8Array(range);
    return {
      firstTime: (s) => {
        if (bits[s - min]) return false;
        bits[s - min] = 1;
        return true;
      },
    };
  }
  const set = new Set<number>();
  return {
    firstTime: (s) => {
      if (set.has(s)) return false;
      set.add(s);
      return true;
    },
  };
}

/** Indices in receive order (log order unless the kernel timestamps disagree). */
function receiveOrder(recvMs: Float64Array): Uint32Array {
  const idx = new Uint32Array(recvMs.length).map((_, i) => i);
  for (let i = 1; i < recvMs.length; i++) if (recvMs[i]! < recvMs[i - 1]!) return idx.sort((a, b) => recvMs[a]! - recvMs[b]! || a - b);
  return idx;
}

export function analyzeStream(a: Arrivals, o: AnalysisOptions): StreamAnalysis {
  const gapThresholdMs = o.gapThresholdMs ?? 3 * o.intervalMs;
  const steadyMs = o.steadyMs ?? 100;
  const offset = o.clockOffsetMs ?? 0;

  // New packets only: a duplicate delivers nothing, so it does not end a gap.
  const memory = seqMemory(a.seq);
  const firsts: number[] = [];
  let duplicates = 0;
  let reordered = 0;
  let maxSeq = -1;
  let minSeq = Infinity;
  for (const i of receiveOrder(a.recvMs)) {
    const s = a.seq[i]!;
    if (!memory.firstTime(s)) {
      duplicates++;
      continue;
    }
    if (s < maxSeq) reordered++;
    maxSeq = Math.max(maxSeq, s);
    minSeq = Math.min(minSeq, s);
    firsts.push(i);
  }
  const unique = firsts.length;
  const lossBasis = o.sent !== undefined ? 'sender count' : 'sequence range';
  const expected = o.sent ?? (unique ? maxSeq - minSeq + 1 : 0);
  const lost = Math.max(0, expected - unique);

  const t = Float64Array.from(firsts, (i) => a.recvMs[i]! - offset);
  const gapAt = (k: number): Gap => {
    const before = firsts[k - 1]!;
    const after = firsts[k]!;
    const startMs = t[k - 1]!;
    const endMs = t[k]!;
    return {
      startMs,
      endMs,
      durationMs: us(endMs - startMs),
      seqBefore: a.seq[before]!,
      seqAfter: a.seq[after]!,
      seqSkipped: Math.max(0, a.seq[after]! - a.seq[before]! - 1),
      sendSpanMs: us(a.sendMs[after]! - a.sendMs[before]!),
      window: o.windows.find((w) => overlaps(startMs, endMs, w))?.label ?? null,
    };
  };

  const gaps: Gap[] = [];
  const largestIn = new Map<string, number>(); // window label → index k of its largest inter-arrival
  let noiseK = 0;
  const inter = new Float64Array(Math.max(0, unique - 1));
  for (let k = 1; k < unique; k++) {
    const d = us(t[k]! - t[k - 1]!);
    inter[k - 1] = d;
    const inside = o.windows.filter((w) => overlaps(t[k - 1]!, t[k]!, w));
    for (const w of inside) {
      const best = largestIn.get(w.label);
      if (best === undefined || d > inter[best - 1]!) largestIn.set(w.label, k);
    }
    if (!inside.length && (!noiseK || d > inter[noiseK - 1]!)) noiseK = k;
    if (d > gapThresholdMs) gaps.push(gapAt(k));
  }

  const lastMs = unique ? t[unique - 1]! : null;
  const ends = [o.endMs, lastMs, ...o.windows.map((w) => w.endMs)].filter((x): x is number => x !== undefined && x !== null);
  const endMs = ends.length ? Math.max(...ends) : null;
  const silentMs = lastMs === null || endMs === null ? null : us(endMs - lastMs);
  // Back after a window: a new packet came after its end, and it was no straggler flushed at
  // the end (it came more than a gap later, or the stream was still alive when recording stopped).
  const resumedAfter = (w: DisruptionWindow) => lastMs !== null && lastMs > w.endMs && (lastMs - w.endMs > gapThresholdMs || silentMs! <= gapThresholdMs);
  const windows = o.windows.map((w): WindowFigures => {
    const resumed = resumedAfter(w);
    const k = largestIn.get(w.label);
    const downtimeGap = k === undefined || !resumed ? null : gapAt(k);
    const after = w.resumedMs === null ? -1 : firstAtOrAfter(t, w.resumedMs);
    return {
      window: w.label,
      resumed,
      downtimeMs: resumed ? (downtimeGap?.durationMs ?? null) : silentMs,
      downtimeGap,
      resumeToFirstPacketMs: after < 0 ? null : us(t[after]! - w.resumedMs!),
      disruption: disruption(w, gaps, lastMs, steadyMs, resumed),
    };
  });

  const sortedInter = inter.slice().sort();
  const noiseFloorGap = noiseK ? gapAt(noiseK) : null;
  return {
    intervalMs: o.intervalMs,
    gapThresholdMs,
    steadyMs,
    firstMs: unique ? t[0]! : null,
    lastMs,
    endMs,
    didNotResume: windows.filter((w) => !w.resumed).length,
    received: a.seq.length,
    unique,
    duplicates,
    reordered,
    lost,
    lossRatio: expected ? lost / expected : 0,
    lossBasis,
    interArrival: sortedInter.length
      ? { p50Ms: percentile(sortedInter, 50), p99Ms: percentile(sortedInter, 99), p999Ms: percentile(sortedInter, 99.9), maxMs: sortedInter[sortedInter.length - 1]! }
      : null,
    gaps,
    windows,
    noiseFloorMs: noiseFloorGap?.durationMs ?? null,
    noiseFloorGap,
    series: series(t),
  };
}

/** Index of the first time ≥ ms in an ascending array; -1 when there is none. */
function firstAtOrAfter(t: Float64Array, ms: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo < t.length ? lo : -1;
}

/** From the first listed gap in the window to the first packet followed by steadyMs without one;
 *  never ending when the stream did not resume (from its last arrival if no gap came before). */
function disruption(w: DisruptionWindow, gaps: readonly Gap[], lastMs: number | null, steadyMs: number, resumed: boolean): Disruption | null {
  if (lastMs === null) return null;
  const first = gaps.findIndex((g) => overlaps(g.startMs, g.endMs, w));
  if (!resumed) {
    const from = first < 0 ? [] : gaps.slice(first);
    return { startMs: from[0]?.startMs ?? lastMs, endMs: null, spanMs: null, gaps: from.length, seqSkipped: from.reduce((n, g) => n + g.seqSkipped, 0) };
  }
  if (first < 0) return null;
  let skipped = 0;
  for (let k = first; k < gaps.length; k++) {
    skipped += gaps[k]!.seqSkipped;
    const quietUntil = gaps[k + 1]?.startMs ?? lastMs;
    if (quietUntil - gaps[k]!.endMs >= steadyMs) {
      return { startMs: gaps[first]!.startMs, endMs: gaps[k]!.endMs, spanMs: us(gaps[k]!.endMs - gaps[first]!.startMs), gaps: k - first + 1, seqSkipped: skipped };
    }
  }
  return { startMs: gaps[first]!.startMs, endMs: null, spanMs: null, gaps: gaps.length - first, seqSkipped: skipped };
}

/** Largest inter-arrival per bucket, so hours of traffic plot as ~1500 points and no spike is lost. */
function series(t: Float64Array): [number, number][] {
  if (t.length < 2) return [];
  const bucketMs = Math.max((t[t.length - 1]! - t[0]!) / SERIES_POINTS, 1e-9);
  const out: [number, number][] = [];
  for (let k = 1; k < t.length; k++) {
    const at = us(t[k - 1]! - t[0]!);
    const d = us(t[k]! - t[k - 1]!);
    const last = out.at(-1);
    if (last && Math.floor(last[0] / bucketMs) === Math.floor(at / bucketMs)) {
      if (d > last[1]) out[out.length - 1] = [at, d];
    } else out.push([at, d]);
  }
  return out;
}
