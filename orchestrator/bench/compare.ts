// How the benchmarks report a series and compare two: a series says how many of its samples
// were measured, and a comparison of series that miss samples is not made — their medians
// would stand for different migrations (a baseline of 1 of 6 against 6 of 6 is no baseline).
import { summarize } from '../probe/stats.js';

/** One figure over the samples a series planned; null or NaN where one was not measured. */
export interface Measured {
  values: number[];
  /** Samples planned. */
  n: number;
}

export function measured(xs: readonly (number | null | undefined)[]): Measured {
  return { values: xs.filter((x): x is number => typeof x === 'number' && !Number.isNaN(x)), n: xs.length };
}

const complete = (s: Measured) => s.n > 0 && s.values.length === s.n;

/** `n` when every sample was measured, else `k of n measured`. */
export function measuredCount(s: Measured): string {
  return complete(s) ? String(s.n) : `${s.values.length} of ${s.n} measured`;
}

/** ms: two decimals below 10, else one; '–' for nothing. */
export function num(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1);
}

/** The median in ms, with the count when samples are missing. */
export function median(s: Measured): string {
  const m = summarize(s.values)?.median;
  return `${m === undefined ? '–' : `${num(m)} ms`}${complete(s) ? '' : ` (${measuredCount(s)})`}`;
}

/** f(median of a, median of b) — a difference, a ratio —, or `n/a (k of n measured)` when
 *  either series misses samples. */
export function compared(a: Measured, b: Measured, f: (a: number, b: number) => string): string {
  const short = [a, b].filter((s) => !complete(s));
  if (short.length) return `n/a (${short.map(measuredCount).join(', ')})`;
  return f(summarize(a.values)!.median, summarize(b.values)!.median);
}

/** a − b, signed, in ms. */
export const difference = (a: number, b: number) => `${a >= b ? '+' : ''}${num(a - b)} ms`;
