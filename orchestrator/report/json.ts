import type { Reporter } from './reporter-types.js';
import { REPORT_FILE } from './run.js';

/** Indented, but each innermost array of numbers (plot points) on one line. */
function stringify(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_m, inner: string) => `[${inner.split(/,\s+/).join(',')}]`) + '\n';
}

export const jsonReporter: Reporter = {
  name: 'json',
  description: `${REPORT_FILE}: the versioned machine-readable report (inputs, results, statistics, thresholds)`,
  render: async (run) => [{ name: REPORT_FILE, content: stringify(run) }],
};
