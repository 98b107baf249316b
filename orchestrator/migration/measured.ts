// A migration with the UDP probe recording: the workload's streams run across the move and
// the run's reports (JSON, Markdown, JUnit, SVG) are written whether the move worked or not.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../lab/handle.js';
import { singleHostClock } from '../probe/clock.js';
import { EventLog } from '../probe/timeline.js';
import { writeReports } from '../report/reporter.js';
import { analyzeRun, streamInput, type ProbeRun } from '../report/run.js';
import { keepLabWorkloadLogs } from '../workload/logs.js';
import { startWorkloadStreams } from '../workload/streams.js';
import { checkMove, migrateWorkload, type MigrateOptions, type MigrationResult } from './migrate.js';
import { strategyFor } from './strategy.js';

export interface MeasuredMigration {
  result?: MigrationResult;
  error?: unknown;
  run: ProbeRun;
  files: string[];
}

/** Quiet time on both sides of the move, so the gap has a steady stream around it. */
const SETTLE_MS = 1000;

export async function measuredMigration(lab: LabHandle, name: string, to: string, o: MigrateOptions & { runDir: string; echoIntervalMs?: number }): Promise<MeasuredMigration> {
  const { w } = checkMove(lab, name, to);
  const raw = join(o.runDir, 'raw');
  mkdirSync(raw, { recursive: true });
  const events = new EventLog();
  const streams = await startWorkloadStreams(lab, w, { dir: raw, echoIntervalMs: o.echoIntervalMs ?? w.app.intervalMs, maxDurationS: 600 });
  let result: MigrationResult | undefined;
  let error: unknown;
  try {
    await sleep(SETTLE_MS);
    result = await migrateWorkload(lab, name, to, { ...o, events });
    await sleep(SETTLE_MS);
  } catch (e) {
    error = e;
  }
  const captures = await Promise.all(streams.map((s) => s.stop()));
  await keepLabWorkloadLogs(lab, raw);
  const run = analyzeRun(
    {
      name: `migrate ${name} to ${to}`,
      createdAt: new Date().toISOString(),
      description: `warplab migrate ${lab.name} ${name} --to ${to}` + (error ? ` (failed: ${(error as Error).message})` : ''),
      clock: singleHostClock(),
      analysis: {},
      thresholds: [],
      references: strategyFor(lab.topology, o.strategy).references ?? [],
      trials: [{ label: `${name} → ${to}`, events: events.events, streams: captures.map((c) => streamInput(c, o.runDir)) }],
    },
    o.runDir,
  );
  return { ...(result ? { result } : {}), ...(error ? { error } : {}), run, files: await writeReports(run, o.runDir) };
}
