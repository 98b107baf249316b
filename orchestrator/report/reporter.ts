// Output formats: each is a Reporter in one registry; `warplab report` and runs use them all.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { markdownReporter } from './markdown.js';
import { Registry } from '../registry.js';
import type { Reporter } from './reporter-types.js';
import { ReportError, type ProbeRun } from './run.js';
import { svgReporter } from './svg.js';

const registry = new Registry<Reporter>('report format', 'report formats', (m) => new ReportError(m));

export const reporters: ReadonlyMap<string, Reporter> = registry.entries;

export function registerReporter(reporter: Reporter): Disposable {
  return registry.register(reporter.name, reporter);
}

export function getReporter(name: string): Reporter {
  return registry.get(name);
}

// The built-ins go through the same door as a user's plugin.
for (const r of [jsonReporter, markdownReporter, junitReporter, svgReporter]) registerReporter(r);

/** Renders the chosen formats (default all) into runDir; returns the paths written. */
export async function writeReports(run: ProbeRun, runDir: string, formats: readonly string[] = [...reporters.keys()]): Promise<string[]> {
  const unknown = formats.filter((f) => !reporters.has(f));
  if (unknown.length) throw new ReportError(`unknown report format ${unknown.join(', ')}; known: ${[...reporters.keys()].join(', ')}`);
  mkdirSync(runDir, { recursive: true });
  const written: string[] = [];
  for (const f of formats) {
    for (const file of await getReporter(f).render(run)) {
      const path = join(runDir, file.name);
      writeFileSync(path, file.content);
      written.push(path);
    }
  }
  return written;
}
