// Synthetic arrival logs with known gaps, loss, duplicates and reordering → exact figures.
import { strict as assert } from 'node:assert';
import { analyzeStream } from '../../probe/analysis.js';
import type { Arrivals } from '../../probe/log.js';
import { linkEvents } from '../../probe/link-monitor.js';
import { windowsFromEvents, type DisruptionWindow, type TimelineEvent } from '../../probe/timeline.js';

const T0 = 1_000_000; // epoch ms of seq 0; integers keep every figure exact

/** [seq, receive ms after T0, send ms after T0 (default: seq ms)] in arrival order. */
function arrivals(rows: readonly [number, number, number?][]): Arrivals {
  return {
    seq: Uint32Array.from(rows, (r) => r[0]),
    recvMs: Float64Array.from(rows, (r) => T0 + r[1]),
    sendMs: Float64Array.from(rows, (r) => T0 + (r[2] ?? r[0])),
  };
}

/**
 * 1 ms stream, seq 0…999 arriving at seq ms, except:
 * seq 100–149 lost (51 ms gap in the window), seq 160–163 lost (5 ms gap in the window),
 * seq 300 duplicated, 500/501 swapped, and the sender paused 7 ms before seq 700
 * (8 ms gap outside the window, nothing lost).
 */
function scenario(): Arrivals {
  const rows: [number, number, number?][] = [];
  for (let s = 0; s < 1000; s++) {
    if ((s >= 100 && s < 150) || (s >= 160 && s < 164)) continue;
    if (s >= 700) rows.push([s, s + 7, s + 7]);
    else if (s === 500) rows.push([501, 500]);
    else if (s === 501) rows.push([500, 501]);
    else rows.push([s, s]);
    if (s === 300) rows.push([300, 300.5]);
  }
  return arrivals(rows);
}

const migration: DisruptionWindow = { label: 'migration 1', kind: 'migration', startMs: T0 + 90, endMs: T0 + 160, switchingMs: null, resumedMs: null };

describe('probe analysis of synthetic arrivals', () => {
  it('counts loss, duplicates and reordering exactly', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [migration] });
    assert.deepEqual(
      { received: a.received, unique: a.unique, duplicates: a.duplicates, reordered: a.reordered, lost: a.lost, lossRatio: a.lossRatio, basis: a.lossBasis },
      { received: 947, unique: 946, duplicates: 1, reordered: 1, lost: 54, lossRatio: 0.054, basis: 'sequence range' },
    );
  });

  it('lists every gap above 3 × interval with what was skipped and how long the sender was silent', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [migration] });
    assert.deepEqual(
      a.gaps.map((g) => [g.startMs - T0, g.durationMs, g.seqBefore, g.seqAfter, g.seqSkipped, g.sendSpanMs, g.window]),
      [
        [99, 51, 99, 150, 50, 51, 'migration 1'],
        [159, 5, 159, 164, 4, 5, 'migration 1'],
        [699, 8, 699, 700, 0, 8, null],
      ],
    );
    assert.equal(a.interArrival?.maxMs, 51);
    assert.equal(a.interArrival?.p50Ms, 1);
  });

  it('downtime is the largest gap in the window, the noise floor the largest outside', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [migration] });
    assert.equal(a.windows[0]!.downtimeMs, 51);
    assert.equal(a.windows[0]!.downtimeGap?.seqSkipped, 50);
    assert.equal(a.noiseFloorMs, 8);
    assert.equal(a.noiseFloorGap!.startMs - T0, 699);
  });

  it('the disruption spans from before the first gap to the start of the steady stream', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [migration] });
    assert.deepEqual(a.windows[0]!.disruption, { startMs: T0 + 99, endMs: T0 + 164, spanMs: 65, gaps: 2, seqSkipped: 54 });
    // with steadiness demanded for longer than the stream stays quiet, it never ends
    const strict = analyzeStream(scenario(), { intervalMs: 1, windows: [migration], steadyMs: 600 });
    assert.deepEqual(strict.windows[0]!.disruption, { startMs: T0 + 99, endMs: null, spanMs: null, gaps: 3, seqSkipped: 54 });
  });

  it('counts the tail as lost when the sender says how many it sent', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [], sent: 1003 });
    assert.deepEqual([a.lost, a.lossBasis], [57, 'sender count']);
  });

  it('without windows every gap is noise; a window with no gap has no disruption', () => {
    const quiet: DisruptionWindow = { ...migration, startMs: T0 + 400, endMs: T0 + 410 };
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [quiet] });
    assert.equal(a.noiseFloorMs, 51);
    assert.equal(a.windows[0]!.downtimeMs, 1);
    assert.equal(a.windows[0]!.disruption, null);
  });

  it('applies the receiver clock offset to every receive time', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [migration], clockOffsetMs: 100 });
    assert.equal(a.firstMs, T0 - 100);
    // 100 ms earlier on the reference clock, the losses fall before the window
    assert.deepEqual([a.windows[0]!.downtimeMs, a.noiseFloorMs], [1, 51]);
  });

  it('sorts by receive time and survives an empty log', () => {
    const a = analyzeStream(arrivals([[1, 2], [0, 1], [2, 10]]), { intervalMs: 1, windows: [] });
    assert.deepEqual([a.reordered, a.gaps.length, a.gaps[0]?.durationMs], [0, 1, 8]);
    const none = analyzeStream(arrivals([]), { intervalMs: 1, windows: [migration] });
    assert.deepEqual([none.received, none.lost, none.noiseFloorMs, none.windows[0]!.downtimeMs, none.interArrival, none.series], [0, 0, null, null, null, []]);
  });

  it('a stream that never comes back after the window did not resume: its silence until the end, not an earlier gap', () => {
    // seq 0…199 at seq ms with a 15 ms gap (pre-copy) at 49 → 64, then nothing until the end at 1000 ms
    const dead = arrivals(Array.from({ length: 200 }, (_, s) => [s, s] as [number, number]).filter(([s]) => s < 50 || s >= 64));
    const move: DisruptionWindow = { ...migration, startMs: T0 + 40, endMs: T0 + 300, resumedMs: T0 + 250 };
    const a = analyzeStream(dead, { intervalMs: 1, windows: [move], endMs: T0 + 1000 });
    assert.deepEqual(
      { ...a.windows[0]!, disruption: a.windows[0]!.disruption },
      { window: 'migration 1', resumed: false, downtimeMs: 801, downtimeGap: null, resumeToFirstPacketMs: null, disruption: { startMs: T0 + 49, endMs: null, spanMs: null, gaps: 1, seqSkipped: 14 } },
    );
    assert.deepEqual([a.didNotResume, a.endMs, a.lastMs], [1, T0 + 1000, T0 + 199]);
    // without a recorded end, the silence runs at least to the window's end
    assert.equal(analyzeStream(dead, { intervalMs: 1, windows: [move] }).windows[0]!.downtimeMs, 101);
  });

  it('a stream that comes back resumed; resume → first packet is the first new arrival after the resume event', () => {
    const move: DisruptionWindow = { ...migration, resumedMs: T0 + 120 };
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [move], endMs: T0 + 1010 });
    assert.deepEqual([a.windows[0]!.resumed, a.windows[0]!.downtimeMs, a.windows[0]!.resumeToFirstPacketMs, a.didNotResume], [true, 51, 30, 0]);
  });

  it('stragglers right after the window are no resume; a recording that ends soon after a live stream is', () => {
    // 10 ms stream: window 0…100 ms, one packet 5 ms after its end, then silence until 1000 ms
    const rows: [number, number][] = [[0, 0], [1, 10], [2, 105]];
    const w: DisruptionWindow = { ...migration, startMs: T0 + 20, endMs: T0 + 100 };
    const straggler = analyzeStream(arrivals(rows), { intervalMs: 10, windows: [w], endMs: T0 + 1000 });
    assert.deepEqual([straggler.windows[0]!.resumed, straggler.windows[0]!.downtimeMs], [false, 895]);
    // the same packet with the recording stopped 20 ms after it: the stream was alive
    const short = analyzeStream(arrivals(rows), { intervalMs: 10, windows: [w], endMs: T0 + 125 });
    assert.deepEqual([short.windows[0]!.resumed, short.windows[0]!.downtimeMs], [true, 95]);
  });

  it('keeps one plot point per bucket: the largest gap in it', () => {
    const a = analyzeStream(scenario(), { intervalMs: 1, windows: [] });
    assert.ok(a.series.length <= 1500);
    assert.ok(a.series.some(([, g]) => g === 51) && a.series.some(([, g]) => g === 8));
  });
});

describe('probe timeline windows', () => {
  const at = (ms: number, kind: TimelineEvent['kind'], source = 'orchestrator'): TimelineEvent => ({ atMs: ms, kind, source });

  it('a migration window runs to its completion; switching is RARP → first packet on the new path', () => {
    const w = windowsFromEvents([at(90, 'migration-started'), at(95, 'source-stopped'), at(150, 'destination-resumed'), at(151, 'rarp-seen'), at(152.5, 'first-packet-new-path'), at(170, 'migration-completed')]);
    assert.deepEqual(w, [{ label: 'migration 1', kind: 'migration', startMs: 90, endMs: 170, switchingMs: 1.5, resumedMs: 150 }]);
  });

  it('without a completion it ends at the last resume/switch; without a RARP there is no switching time', () => {
    const w = windowsFromEvents([at(10, 'migration-started'), at(30, 'destination-resumed'), at(40, 'translator-switched'), at(50, 'migration-started'), at(60, 'first-packet-new-path')]);
    assert.deepEqual(w.map((x) => [x.label, x.startMs, x.endMs, x.switchingMs]), [
      ['migration 1', 10, 40, null],
      ['migration 2', 50, 60, null],
    ]);
  });

  it('a link cut runs from link-down to link-up of the same source', () => {
    const w = windowsFromEvents([at(5, 'link-down', 'r:eth1'), at(7, 'link-up', 'r:eth0'), at(205, 'link-up', 'r:eth1')]);
    assert.deepEqual(w.map((x) => [x.label, x.startMs, x.endMs]), [['link cut 1', 5, 205]]);
  });
});

describe('link events from ip monitor', () => {
  it('turns operational state changes into link-down/link-up events with µs times', () => {
    const out = [
      '[2026-11-23T15:01:18.723755] 3: eth1@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default ',
      '    link/ether 26:35:ed:26:5d:68 brd ff:ff:ff:ff:ff:ff link-netns wl-probe-mon-b',
      '[2026-11-23T15:01:18.924497] 3: eth1@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state DOWN group default ',
      '[2026-11-23T15:01:19.506042] ',
      '[2026-11-23T15:01:18.924751] 3: eth1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ',
    ].join('\n');
    const events = linkEvents(out, 'r');
    assert.deepEqual(events.map((e) => [e.kind, e.source]), [['link-down', 'r:eth1'], ['link-up', 'r:eth1']]);
    assert.equal(events[0]!.atMs, Date.UTC(2026, 10, 23, 15, 1, 18) + 723.755);
    assert.equal((events[1]!.atMs - events[0]!.atMs).toFixed(3), '200.996');
  });
});
