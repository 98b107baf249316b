// A benchmark series: one lab with its workload's streams running, migrations alternating
// between two hypervisors; and how several series run interleaved (A B A B …) so that load on
// a shared machine hits them alike. Each migration's window is read back from the streams.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { up, type StartedLab } from '../lab/lab.js';
import { migrateWorkload, type MigrationResult } from '../migration/migrate.js';
import type { WindowFigures } from '../probe/analysis.js';
import { singleHostClock } from '../probe/clock.js';
import type { ProbeStream } from '../probe/stream.js';
import { EventLog } from '../probe/timeline.js';
import { analyzeRun, streamInput } from '../report/run.js';
import type { Topology } from '../topology/model.js';
import { startWorkloadStreams } from '../workload/streams.js';

export interface Sample {
  result: MigrationResult;
  /** The migration's window in the workload's own stream and in the client's echo stream. */
  own: WindowFigures | null;
  echo: WindowFigures | null;
}

/** A gap is measured only where the stream came back: the silence of one that did not is none. */
export const gap = (w: WindowFigures | null) => (w?.resumed ? w.downtimeMs : null);

export class Series {
  private readonly stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
  private readonly runDir = mkdtempSync(join(tmpdir(), 'warplab-bench-run-'));
  private readonly events = new EventLog();
  private readonly results: MigrationResult[] = [];
  private started?: StartedLab;
  private streams: ProbeStream[] = [];

  constructor(
    readonly t: Topology,
    readonly hvs: [string, string],
    readonly label: string,
  ) {}

  get lab(): StartedLab {
    if (!this.started) throw new Error(`series ${this.label} has not started`);
    return this.started;
  }

  get workload() {
    return this.t.workloads[0]!;
  }

  async start(): Promise<void> {
    this.started = await up(this.t, { stateDir: this.stateDir });
    const w = this.workload;
    this.streams = await startWorkloadStreams(this.started, w, { dir: this.runDir, echoIntervalMs: w.app.intervalMs, maxDurationS: 3600 });
    await sleep(1000);
  }

  /** The next move, to the other hypervisor; `of`: how many the series plans (for progress). */
  async migrate(of: number): Promise<void> {
    const w = this.workload;
    this.results.push(await migrateWorkload(this.lab, w.name, this.hvs[(this.results.length + 1) % 2]!, { events: this.events }));
    await sleep(700 + 20 * w.app.intervalMs);
    process.stderr.write(`\r${this.label}: ${this.results.length}/${of}   `);
  }

  async finish(): Promise<Sample[]> {
    try {
      const captures = await Promise.all(this.streams.map((s) => s.stop()));
      const input = { name: this.label, createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: this.label, events: this.events.events, streams: captures.map((c) => streamInput(c, this.runDir)) }] };
      const [own, echo] = analyzeRun(input, this.runDir).trials[0]!.streams;
      return this.results.map((result, i) => ({ result, own: own!.analysis.windows[i] ?? null, echo: echo!.analysis.windows[i] ?? null }));
    } finally {
      await this.started?.down();
      rmSync(this.stateDir, { recursive: true, force: true });
      rmSync(this.runDir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts the series, then runs `repeat` moves of each, interleaved; `between(s, i)` runs once
 * before the first move (i = -1) and after move i of series s (a measurement at the new place).
 * Every series is finished, even on a throw.
 */
export async function interleaved(repeat: number, series: Series[], between?: (s: Series, i: number) => Promise<void>): Promise<Sample[][]> {
  try {
    for (const s of series) {
      await s.start();
      await between?.(s, -1);
    }
    for (let i = 0; i < repeat; i++) {
      for (const s of series) {
        await s.migrate(repeat);
        await between?.(s, i);
      }
    }
    process.stderr.write('\n');
  } catch (e) {
    await Promise.allSettled(series.map((s) => s.finish()));
    throw e;
  }
  const out: Sample[][] = [];
  for (const s of series) out.push(await s.finish());
  return out;
}
