// Statistics over repetitions, as the papers report them (mean and σ) plus the spread.

/** σ is the sample standard deviation (divides by n − 1): repetitions are a sample of
 *  the possible runs. The papers do not say which σ they use. */
export const SD_KIND = 'sample (n-1)';

export interface Summary {
  n: number;
  mean: number;
  /** Sample σ; null when n < 2. */
  sd: number | null;
  min: number;
  median: number;
  max: number;
}

/** null for no values. */
export function summarize(values: readonly number[]): Summary | null {
  const n = values.length;
  if (!n) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const mid = n >> 1;
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n, mean, sd, min: sorted[0]!, median, max: sorted[n - 1]! };
}

/** Nearest-rank percentile of an ascending array, p in [0, 100]. */
export function percentile(ascending: ArrayLike<number>, p: number): number {
  const i = Math.min(ascending.length - 1, Math.max(0, Math.ceil((p / 100) * ascending.length) - 1));
  return ascending[i]!;
}
