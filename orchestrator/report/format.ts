// Number formatting shared by the human-readable reports.
import type { Summary } from '../probe/stats.js';

export function ms(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)} ms`;
}

/** A value in the metric's unit: ms, packets (integer unless a mean), or a ratio as %. */
export function valueIn(unit: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (unit === 'ms') return ms(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(3)} %`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** A stream that never came back after a window, in every report, table and failure line. */
export function didNotResume(silentMs: number | null): string {
  return silentMs === null ? 'did not resume (no packet arrived in the trial)' : `did not resume (silent for ${silentMs} ms until the end of the trial)`;
}

/** A trial's figure as valueIn, or why a stream that never came back has none. */
export function readingIn(unit: string, r: { value: number | null; didNotResume: boolean }): string {
  return r.didNotResume ? didNotResume(r.value) : valueIn(unit, r.value);
}

/** n, mean, σ, min, median, max of a statistics row, each through `cell`. Trials that did not
 *  resume are no values of it: n counts them apart, and the series has no maximum. */
export function statisticCells(r: { summary: Summary | null; didNotResume: number }, cell: (v: number | null | undefined) => string): string[] {
  const s = r.summary;
  const n = `${s?.n ?? 0}${r.didNotResume ? ` + ${r.didNotResume} did not resume` : ''}`;
  return [n, cell(s?.mean), cell(s?.sd), cell(s?.min), cell(s?.median), r.didNotResume ? 'did not resume' : cell(s?.max)];
}

/** Safe as a trial's part of a file name. */
export function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'trial';
}
