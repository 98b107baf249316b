// Figures a scenario step measured itself (ping round trips, HTTP response times), as the
// reports' measurement table shows them. The reference column quotes what the scenario
// wrote — a paper's figure — and nothing else: warplab never makes one up.
import type { Summary } from '../probe/stats.js';

export interface Measurement {
  /** The scenario's label ("(i) not migrated"). */
  label: string;
  /** What was measured, between which ends: "ping RTT U → vm-a (172.16.10.2)". */
  what: string;
  /** Over the samples that measured something, ms; null when none did (the step failed). */
  summary: Summary | null;
  /** Attempts that gave no sample, when any: "2 lost", "1 failed". */
  missing?: string;
  /** What the samples went through or carried: the route (rtt), the size (http). */
  detail: string;
  /** The scenario's reference text, quoted as written. */
  reference?: string;
}

/** A measurement where the run took it. */
export interface MeasurementRecord extends Measurement {
  trial: number;
  /** The step's id: `step 2`, `reset 1`. */
  step: string;
}

export const MEASUREMENT_HEAD = ['trial', 'step', 'label', 'measured', 'median', 'mean ± σ', 'min–max', 'n', 'path / size', 'paper (reference)'];

const ms3 = (v: number) => v.toFixed(3);

/** One row under MEASUREMENT_HEAD; ms with 3 decimals (RTTs in a lab are tens of µs). */
export function measurementCells(m: MeasurementRecord): string[] {
  const s = m.summary;
  const n = `${s?.n ?? 0}${m.missing ? ` (${m.missing})` : ''}`;
  const figures = s ? [`${ms3(s.median)} ms`, `${ms3(s.mean)} ± ${s.sd === null ? '—' : ms3(s.sd)} ms`, `${ms3(s.min)}–${ms3(s.max)} ms`] : ['no sample', '—', '—'];
  return [String(m.trial), m.step, m.label, m.what, ...figures, n, m.detail, m.reference ?? ''];
}
