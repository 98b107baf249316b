// Output formats: each is a Reporter in one registry; `warplab report` and runs use them all.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { markdownReporter } from './markdown.js';
import { ReportError, type ProbeRun } from './run.js';
import { svgReporter } from './svg.js';

export interface RenderedFile {
  /** File name inside the run directory. */
  name: string;
  content: string;
}

export interface Reporter {
  readonly name: string;
  readonly description: string;
  render(run: ProbeRun): Promise<RenderedFile[]>;
}

export const reporters: ReadonlyMap<string, Reporter> = new Map([jsonReporter, markdownReporter, junitReporter, svgReporter].map((r) => [r.name, r]));

/** Renders the chosen formats (default all) into runDir; returns the paths written. */
export async function writeReports(run: ProbeRun, runDir: string, formats: readonly string[] = [...reporters.keys()]): Promise<string[]> {
  const unknown = formats.filter((f) => !reporters.has(f));
  if (unknown.length) throw new ReportError(`unknown report format ${unknown.join(', ')}; known: ${[...reporters.keys()].join(', ')}`);
  mkdirSync(runDir, { recursive: true });
  const written: string[] = [];
  for (const f of formats) {
    for (const file of await reporters.get(f)!.render(run)) {
      const path = join(runDir, file.name);
      writeFileSync(path, file.content);
      written.push(path);
    }
  }
  return written;
}
