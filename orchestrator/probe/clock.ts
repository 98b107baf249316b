// How times from different places end up on one timeline.
//
// Every time warplab records is CLOCK_REALTIME in epoch milliseconds (a double: ~0.25 µs
// precision today). udp-send stamps packets and udp-recv stamps arrivals (kernel
// SO_TIMESTAMPNS) with CLOCK_REALTIME; the orchestrator stamps events with
// realtimeNowMs(). Gaps and downtimes are differences of receive times on one receiver, so
// they never depend on synchronisation. What does: placing packets against events, and
// one-way delay. On one machine (every netns lab) all of them read the same kernel clock,
// offset 0. When nodes run on different hosts (VMs, SSH hosts), each receiver's clock
// offset to the orchestrator (receiver − orchestrator, from NTP/PTP or a ping-pong
// estimate) is given per stream as clockOffsetMs, subtracted from its receive times,
// and its uncertainty is reported next to the results. A VM's own clock is not trusted
// across a migration (it may jump): receivers run outside the migrating VM where possible.

/** Epoch-ms doubles carry ~0.24 µs of quantisation: durations are reported to the µs. */
export function durationUs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Orchestrator's CLOCK_REALTIME now, µs resolution: timeOrigin is realtime at start and
 *  now() is CLOCK_MONOTONIC, which NTP slews at the same rate; only a clock step skews it. */
export function realtimeNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface ClockOffset {
  /** Stream label or node whose clock this is. */
  of: string;
  /** That clock minus the orchestrator's, ms. */
  offsetMs: number;
  uncertaintyMs: number;
  method: string;
}

/** Reported with every run, so a reader knows what the times can be compared with. */
export interface ClockInfo {
  reference: 'CLOCK_REALTIME of the orchestrator host';
  /** Every sender, receiver and event on one host (one kernel clock). */
  singleHost: boolean;
  receiveTimestamps: 'kernel (SO_TIMESTAMPNS)' | 'user space';
  offsets: ClockOffset[];
  note: string;
}

export function singleHostClock(kernelTimestamps = true): ClockInfo {
  return {
    reference: 'CLOCK_REALTIME of the orchestrator host',
    singleHost: true,
    receiveTimestamps: kernelTimestamps ? 'kernel (SO_TIMESTAMPNS)' : 'user space',
    offsets: [],
    note: 'one machine: senders, receivers and events share one CLOCK_REALTIME (offset 0); gaps are receiver-clock differences and need no synchronisation',
  };
}

/** Nodes on several hosts: each host's clock offset, as estimated when the run began. */
export function multiHostClock(offsets: ClockOffset[]): ClockInfo {
  return {
    reference: 'CLOCK_REALTIME of the orchestrator host',
    singleHost: false,
    receiveTimestamps: 'kernel (SO_TIMESTAMPNS)',
    offsets,
    note: "nodes run on several hosts: each stream's receive times are on its receiver's host clock, less that host's estimated offset, and so are the events a host stamps (QEMU's stop and resume, the watcher's announcement, first packet and switches); gaps are differences on one receiver's clock and need no synchronisation, placing packets against events carries the offsets' uncertainty",
  };
}

/** One ping-pong: the orchestrator's clock before and after, the other clock in between. */
export interface ClockSample {
  sentMs: number;
  theirsMs: number;
  backMs: number;
}

/**
 * The other clock minus ours from the sample with the shortest round trip (NTP's rule): its
 * reading fell somewhere within that round trip, so the uncertainty is half of it.
 */
export function offsetFromSamples(of: string, samples: readonly ClockSample[], method: string): ClockOffset {
  if (!samples.length) throw new RangeError(`no clock samples for ${of}`);
  const best = samples.reduce((a, b) => (b.backMs - b.sentMs < a.backMs - a.sentMs ? b : a));
  const rtt = best.backMs - best.sentMs;
  return { of, offsetMs: best.theirsMs - (best.sentMs + best.backMs) / 2, uncertaintyMs: rtt / 2, method };
}
