// What is compared across repetitions and against thresholds: one accessor per figure.
import { summarize, type Summary } from '../probe/stats.js';
import type { StreamResult, TrialResult } from './trial.js';

interface Metric {
  title: string;
  unit: 'ms' | 'packets' | 'ratio' | 'windows';
  /** Per stream; trial-level metrics ignore the stream. */
  perStream: boolean;
  /** How long the stream was silent: a stream that never came back after a window has no
   *  such figure, and reads as "did not resume" instead (see readingOf). */
  silence?: true;
  /** Only a stream that carries a workload's packets has it. */
  workloadOnly?: true;
  of(trial: TrialResult, stream: StreamResult): number | null;
}

function largest(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

export const metrics = {
  downtimeMs: { title: 'downtime (largest gap in a window)', unit: 'ms', perStream: true, silence: true, of: (_t, s) => largest(s.analysis.windows.map((w) => w.downtimeMs)) },
  disruptionMs: { title: 'disruption span', unit: 'ms', perStream: true, silence: true, of: (_t, s) => largest(s.analysis.windows.map((w) => w.disruption?.spanMs ?? null)) },
  switchingMs: { title: 'switching time (RARP → first packet on new path)', unit: 'ms', perStream: false, of: (t) => t.windows.find((w) => w.switchingMs !== null)?.switchingMs ?? null },
  // Beside the paper's switching time: when the workload itself is back, seen from the client.
  resumeToFirstPacketMs: { title: 'resume → first packet from the workload at the client', unit: 'ms', perStream: true, silence: true, workloadOnly: true, of: (_t, s) => largest(s.analysis.windows.map((w) => w.resumeToFirstPacketMs)) },
  migrationMs: { title: 'total migration time (started → completed, network switched)', unit: 'ms', perStream: false, of: (t) => largest(t.windows.filter((w) => w.kind === 'migration').map((w) => w.endMs - w.startMs)) },
  noiseFloorMs: { title: 'noise floor (largest gap outside windows)', unit: 'ms', perStream: true, of: (_t, s) => s.analysis.noiseFloorMs },
  largestGapMs: { title: 'largest gap anywhere', unit: 'ms', perStream: true, silence: true, of: (_t, s) => s.analysis.interArrival?.maxMs ?? null },
  didNotResume: { title: 'windows the stream did not resume after', unit: 'windows', perStream: true, of: (_t, s) => s.analysis.didNotResume },
  lost: { title: 'packets lost', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.lost },
  lossRatio: { title: 'loss ratio', unit: 'ratio', perStream: true, of: (_t, s) => s.analysis.lossRatio },
  duplicates: { title: 'duplicates', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.duplicates },
  reordered: { title: 'reordered', unit: 'packets', perStream: true, of: (_t, s) => s.analysis.reordered },
  sendErrors: { title: 'packets the sender could not send', unit: 'packets', perStream: true, of: (_t, s) => s.sender?.sendErrors ?? null },
  skippedSlots: { title: 'send slots skipped (sender stalled)', unit: 'packets', perStream: true, of: (_t, s) => s.sender?.skippedSlots ?? null },
} satisfies Record<string, Metric>;

export type MetricName = keyof typeof metrics;
export const metricNames = Object.keys(metrics) as MetricName[];

/** A figure of one trial (and stream). */
export interface Reading {
  /** null: not measured. When didNotResume: the stream's silence from its last arrival to the
   *  end of the trial (null if nothing arrived) — not the figure, which it has none of. */
  value: number | null;
  /** The stream never came back after one of the trial's windows. */
  didNotResume: boolean;
}

export function readingOf(metric: MetricName, trial: TrialResult, stream: StreamResult): Reading {
  const m: Metric = metrics[metric];
  if (m.workloadOnly && !stream.workload) return { value: null, didNotResume: false };
  const stopped = m.silence ? stream.analysis.windows.find((w) => !w.resumed) : undefined;
  return stopped ? { value: stopped.downtimeMs, didNotResume: true } : { value: m.of(trial, stream), didNotResume: false };
}

export interface MetricValue extends Reading {
  trial: string;
  /** null for trial-level metrics. */
  stream: string | null;
}

/** Every value of a metric, one per trial (and stream), optionally of one stream only. */
export function metricValues(trials: readonly TrialResult[], metric: MetricName, stream?: string): MetricValue[] {
  const m: Metric = metrics[metric];
  return trials.flatMap((t): MetricValue[] => {
    const streams = t.streams.filter((s) => stream === undefined || s.label === stream);
    if (!m.perStream) return streams.length ? [{ trial: t.label, stream: null, ...readingOf(metric, t, streams[0]!) }] : [];
    return streams.map((s) => ({ trial: t.label, stream: s.label, ...readingOf(metric, t, s) }));
  });
}

export interface StatisticRow {
  metric: MetricName;
  stream: string | null;
  unit: string;
  /** Over the trials that resumed; null when none did. */
  summary: Summary | null;
  /** Trials left out of the summary because the stream did not resume: with any, the
   *  summary is no figure of the whole series. */
  didNotResume: number;
}

/** Statistics over the trials for every metric and stream that has values. */
export function statistics(trials: readonly TrialResult[]): StatisticRow[] {
  const streams = [...new Set(trials.flatMap((t) => t.streams.map((s) => s.label)))];
  return metricNames.flatMap((metric) => {
    const m: Metric = metrics[metric];
    return (m.perStream ? streams : [undefined]).flatMap((stream) => {
      const values = metricValues(trials, metric, stream);
      const summary = summarize(values.flatMap((v) => (v.value === null || v.didNotResume ? [] : [v.value])));
      const didNotResume = values.filter((v) => v.didNotResume).length;
      return summary || didNotResume ? [{ metric, stream: stream ?? null, unit: m.unit, summary, didNotResume }] : [];
    });
  });
}
