// What an output format is; the registry is reporter.ts.
import type { ProbeRun } from './run.js';

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
