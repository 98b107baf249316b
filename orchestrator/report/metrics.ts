// What is compared across repetitions and against thresholds: one accessor per figure.
import { summarize, type Summary } from '../probe/stats.js';
import type { StreamResult, TrialResult } from './run.js';

interface Metric {
  title: string;
  unit: 'ms' | 'packets' | 'ratio';
  /** Per stream; trial-level metrics ignore the stream. */
  perStream: boolean;
  of(trial: TrialResult, stream: StreamResult): number | null;
}

function largest(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

export const metrics = {
  downtimeMs: { title: 'downtime (largest gap in a window)', unit: 'ms', perStream: true, of: (_t, s) => largest(s.analysis.windows.map((w) => w.downtimeMs)) },
  disruptionMs: { title: 'disruption span', unit: 'ms', perStream: true, of: (_t, s) => largest(s.analysis.windows.map((w) => w.disruption?.spanMs ?? null)) },
  switchingMs: { title: 'switching time (RARP → first packet on new path)', unit: 'ms', perStream: false, of: (t) => t.windows.find((w) => w.switchingMs !== null)?.switchingMs ?? null },
  migrationMs: { title: 'total migration time (started → completed, network switched)', unit: 'ms', perStream: false, of: (t) => largest(t.windows.filter((w) => w.kind === 'migration').map((w) => w.endMs - w.startMs)) },
  noiseFloorMs: { title: 'noise floor (largest gap outside windows)', unit: 'ms', perStream: true, of: (_t, s) => s.analysis.noiseFloorMs },
  largestGapMs: { title: 'largest gap anywhere', unit: 'ms', perStream: true, of: (_t, s) => s.analysis.interArrival?.maxMs ?? null },
  lost: { title: 'packets lost', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.lost },
  lossRatio: { title: 'loss ratio', unit: 'ratio', perStream: true, of: (_t, s) => s.analysis.lossRatio },
  duplicates: { title: 'duplicates', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.duplicates },
  reordered: { title: 'reordered', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.reordered },
  sendErrors: { title: 'packets the sender could not send', unit: 'packets', perStream: true, of: (_t, s) => s.sender?.sendErrors ?? null },
  skippedSlots: { title: 'send slots skipped (sender stalled)', unit: 'packets', perStream: true, of: (_t, s) => s.sender?.skippedSlots ?? null },
} satisfies Record<string, Metric>;

export type MetricName = keyof typeof metrics;
export const metricNames = Object.keys(metrics) as MetricName[];

export interface MetricValue {
  trial: string;
  /** null for trial-level metrics. */
  stream: string | null;
  value: number | null;
}

/** Every value of a metric, one per trial (and stream), optionally of one stream only. */
export function metricValues(trials: readonly TrialResult[], metric: MetricName, stream?: string): MetricValue[] {
  const m: Metric = metrics[metric];
  return trials.flatMap((t): MetricValue[] => {
    const streams = t.streams.filter((s) => stream === undefined || s.label === stream);
    if (!m.perStream) return streams.length ? [{ trial: t.label, stream: null, value: m.of(t, streams[0]!) }] : [];
    return streams.map((s) => ({ trial: t.label, stream: s.label, value: m.of(t, s) }));
  });
}

export interface StatisticRow {
  metric: MetricName;
  stream: string | null;
  unit: string;
  summary: Summary;
}

/** Statistics over the trials for every metric and stream that has values. */
export function statistics(trials: readonly TrialResult[]): StatisticRow[] {
  const streams = [...new Set(trials.flatMap((t) => t.streams.map((s) => s.label)))];
  return metricNames.flatMap((metric) => {
    const m: Metric = metrics[metric];
    return (m.perStream ? streams : [undefined]).flatMap((stream) => {
      const values = metricValues(trials, metric, stream).flatMap((v) => (v.value === null ? [] : [v.value]));
      const summary = summarize(values);
      return summary ? [{ metric, stream: stream ?? null, unit: m.unit, summary }] : [];
    });
  });
}
