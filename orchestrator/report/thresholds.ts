// Pass/fail limits on the figures: one JUnit test case each, so CI shows them by name.
import type { Summary } from '../probe/stats.js';
import { didNotResume } from './format.js';
import { metrics, metricValues, type MetricName, type StatisticRow } from './metrics.js';
import type { TrialResult } from './trial.js';

export interface Threshold {
  metric: MetricName;
  /** Only this stream (label); default every stream. */
  stream?: string;
  min?: number;
  max?: number;
  /** Check this statistic over the trials; default: every trial must pass. */
  statistic?: keyof Omit<Summary, 'n' | 'sd'>;
}

export interface ThresholdResult {
  name: string;
  threshold: Threshold;
  passed: boolean;
  /** Why it failed, one line per offending value; empty when passed. */
  failures: string[];
}

export function thresholdName(t: Threshold): string {
  const unit = metrics[t.metric].unit === 'ms' ? ' ms' : '';
  const range = [t.min !== undefined ? `≥ ${t.min}${unit}` : '', t.max !== undefined ? `≤ ${t.max}${unit}` : ''].filter(Boolean).join(' and ');
  return `${t.metric} ${range} (${t.statistic ? `${t.statistic} over trials` : 'every trial'}${t.stream ? `, ${t.stream}` : ''})`;
}

export function evaluateThresholds(thresholds: readonly Threshold[], trials: readonly TrialResult[], stats: readonly StatisticRow[]): ThresholdResult[] {
  return thresholds.map((t) => {
    const values = metricValues(trials, t.metric, t.stream).map((v) => ({ what: `${v.trial}${v.stream ? ` ${v.stream}` : ''}`, value: v.value, didNotResume: v.didNotResume }));
    // A stream that never came back fails whatever the bounds, also a statistic's.
    const checked = t.statistic
      ? [
          ...values.filter((v) => v.didNotResume),
          ...stats
            .filter((r) => r.metric === t.metric && (t.stream === undefined || r.stream === t.stream) && r.summary)
            .map((r) => ({ what: `${t.statistic} of ${r.stream ?? 'trials'}`, value: r.summary![t.statistic!] as number | null, didNotResume: false })),
        ]
      : values;
    const failures = checked.flatMap(({ what, value, didNotResume: stopped }) => {
      if (stopped) return [`${what}: ${didNotResume(value)}`];
      if (value === null) return [`${what}: not measured`];
      if (t.min !== undefined && value < t.min) return [`${what}: ${value} < ${t.min}`];
      if (t.max !== undefined && value > t.max) return [`${what}: ${value} > ${t.max}`];
      return [];
    });
    if (!checked.length) failures.push('no values to check');
    return { name: thresholdName(t), threshold: t, passed: !failures.length, failures };
  });
}
