// A probe run: what was recorded (input: raw logs + events) and what warplab derives from
// it. report.json holds both, so reports can be re-rendered from it alone and re-analysed
// whenever the raw logs are still beside it.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WarplabError } from '../errors.js';
import { analyzeStream } from '../probe/analysis.js';
import type { ClockInfo } from '../probe/clock.js';
import { parseArrivalLog, type ArrivalLog, type Arrivals } from '../probe/log.js';
import { SD_KIND } from '../probe/stats.js';
import type { ReceiverSummary, SenderSummary, StreamCapture } from '../probe/stream.js';
import { windowsFromEvents, type TimelineEvent } from '../probe/timeline.js';
import { didNotResume } from './format.js';
import type { MeasurementRecord } from './measurements.js';
import { statistics, type StatisticRow } from './metrics.js';
import { paperReferences, type PaperReference } from './references.js';
import { evaluateThresholds, type Threshold, type ThresholdResult } from './thresholds.js';
import type { StreamResult, TimelineEntry, TrialResult } from './trial.js';

export const REPORT_SCHEMA = 'warplab.probe-report';
/** Bump on any change a reader of report.json would notice. v2: windows say whether the
 *  stream resumed (downtimeMs of one that did not is its silence until the end of the
 *  recording), resume → first packet, statistics count what did not resume. */
export const REPORT_SCHEMA_VERSION = 2;
/** Older versions whose input this warplab re-analyses from the raw logs (their results it does not render). */
const REANALYSABLE_VERSIONS: readonly number[] = [1];
export const REPORT_FILE = 'report.json';

export class ReportError extends WarplabError {
  override name = 'ReportError';
}

export interface StreamInput {
  label: string;
  /** The workload whose packets it carries: its figures include resume → first packet. */
  workload?: string;
  /** udp-recv's binary log, relative to the run directory. */
  log: string;
  stream: number;
  intervalMs: number;
  sender: SenderSummary | null;
  receiver: ReceiverSummary | null;
  /** Receiver clock minus the reference clock (see probe/clock.ts); 0 on one host. */
  clockOffsetMs?: number;
  /** End of the recording (reference clock); v1 runs lack it: the trial's last event stands in. */
  endedMs?: number;
}

/** A pass/fail outcome recorded while the run went on (a scenario step, an assertion). */
export interface CheckResult {
  name: string;
  passed: boolean;
  /** Why it failed, one line each; empty when passed. */
  failures: string[];
}

export interface TrialInput {
  label: string;
  events: TimelineEvent[];
  streams: StreamInput[];
}

export interface RunInput {
  name: string;
  createdAt: string;
  description?: string;
  clock: ClockInfo;
  analysis: { gapThresholdMs?: number; steadyMs?: number };
  thresholds: Threshold[];
  trials: TrialInput[];
  /** Recorded checks (scenario steps and assertions); JUnit test cases beside the thresholds. */
  checks?: CheckResult[];
  /** The papers' figures for what the run did (its strategies'); runs that predate it: ICOIN 2011's. */
  references?: readonly PaperReference[];
  /** What scenario steps measured themselves (rtt, http), in the order they ran. Optional and
   *  only added to v2: a reader that does not know it loses nothing else. */
  measurements?: MeasurementRecord[];
}

export interface ProbeRun {
  schema: typeof REPORT_SCHEMA;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  input: RunInput;
  trials: TrialResult[];
  sdKind: typeof SD_KIND;
  statistics: StatisticRow[];
  thresholds: ThresholdResult[];
  /** The papers' figures, for comparison only: not measured by warplab. */
  references: readonly PaperReference[];
}

/** A stopped stream as the run records it (log path made relative to the run directory). */
export function streamInput(c: StreamCapture, runDir: string): StreamInput {
  return { label: c.label, ...(c.workload ? { workload: c.workload } : {}), log: relative(runDir, c.logPath), stream: c.stream, intervalMs: c.intervalMs, sender: c.sender, receiver: c.receiver, endedMs: c.endedMs };
}

const noArrivals: Arrivals = { seq: new Uint32Array(0), sendMs: new Float64Array(0), recvMs: new Float64Array(0) };

/** Analyses every stream of every trial from the raw logs in runDir. */
export function analyzeRun(input: RunInput, runDir: string): ProbeRun {
  const logs = new Map<string, ArrivalLog>();
  const logOf = (file: string) => {
    let log = logs.get(file);
    if (!log) {
      const path = join(runDir, file);
      if (!existsSync(path)) throw new ReportError(`${path}: raw log missing`);
      log = parseArrivalLog(readFileSync(path), path);
      logs.set(file, log);
    }
    return log;
  };
  const trials = input.trials.map((t): TrialResult => {
    const windows = windowsFromEvents(t.events);
    const lastEventMs = Math.max(...t.events.map((e) => e.atMs));
    const streams = t.streams.map((s): StreamResult => ({
      label: s.label,
      ...(s.workload ? { workload: s.workload } : {}),
      analysis: analyzeStream(logOf(s.log).streams.get(s.stream) ?? noArrivals, {
        intervalMs: s.intervalMs,
        windows,
        ...input.analysis,
        ...(s.sender ? { sent: s.sender.sent } : {}),
        ...(s.clockOffsetMs !== undefined ? { clockOffsetMs: s.clockOffsetMs } : {}),
        ...(s.endedMs !== undefined || t.events.length ? { endMs: s.endedMs ?? lastEventMs } : {}),
      }),
      sender: s.sender,
    }));
    const originMs = Math.min(...t.events.map((e) => e.atMs), ...streams.flatMap((s) => (s.analysis.firstMs === null ? [] : [s.analysis.firstMs])));
    return { label: t.label, originMs, windows, streams, timeline: timeline(t.events, streams, originMs) };
  });
  const stats = statistics(trials);
  return {
    schema: REPORT_SCHEMA,
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    input,
    trials,
    sdKind: SD_KIND,
    statistics: stats,
    thresholds: evaluateThresholds(input.thresholds, trials, stats),
    references: input.references ?? paperReferences,
  };
}

function timeline(events: readonly TimelineEvent[], streams: readonly StreamResult[], originMs: number): TimelineEntry[] {
  const entries: Omit<TimelineEntry, 'relMs'>[] = events.map((e) => ({
    atMs: e.atMs,
    kind: e.kind,
    source: e.source,
    ...(e.detail || e.uncertaintyMs ? { detail: [e.detail, e.uncertaintyMs ? `± ${e.uncertaintyMs.toFixed(3)} ms` : ''].filter(Boolean).join(' ') } : {}),
  }));
  for (const { label, analysis: a } of streams) {
    if (a.firstMs !== null) entries.push({ atMs: a.firstMs, kind: 'first arrival', source: label });
    if (a.lastMs !== null) entries.push({ atMs: a.lastMs, kind: 'last arrival', source: label });
    for (const w of a.windows) {
      if (w.downtimeGap) entries.push({ atMs: w.downtimeGap.startMs, kind: 'downtime gap', source: label, detail: `${w.window}: ${w.downtimeGap.durationMs.toFixed(3)} ms, ${w.downtimeGap.seqSkipped} seq skipped` });
      if (!w.resumed && a.lastMs !== null) entries.push({ atMs: a.lastMs, kind: 'did not resume', source: label, detail: `${w.window}: ${didNotResume(w.downtimeMs)}` });
      if (w.disruption) entries.push({ atMs: w.disruption.startMs, kind: 'disruption', source: label, detail: `${w.window}: ${w.disruption.spanMs === null ? 'not steady again before the end' : `${w.disruption.spanMs.toFixed(3)} ms`}, ${w.disruption.gaps} gaps` });
    }
    if (a.noiseFloorGap) entries.push({ atMs: a.noiseFloorGap.startMs, kind: 'noise-floor gap', source: label, detail: `${a.noiseFloorGap.durationMs.toFixed(3)} ms` });
  }
  return entries.sort((x, y) => x.atMs - y.atMs).map((e) => ({ ...e, relMs: e.atMs - originMs }));
}

function readReport(runDir: string): { path: string; run: Partial<ProbeRun> } {
  const path = join(runDir, REPORT_FILE);
  if (!existsSync(path)) throw new ReportError(`${runDir} is not a probe run directory: no ${REPORT_FILE}`);
  try {
    return { path, run: JSON.parse(readFileSync(path, 'utf8')) as Partial<ProbeRun> };
  } catch (e) {
    throw new ReportError(`${path}: not JSON: ${(e as Error).message}`);
  }
}

function versionError(path: string, run: Partial<ProbeRun>, hint = ''): ReportError {
  return new ReportError(`${path}: schema ${run.schema ?? '?'} v${run.schemaVersion ?? '?'}, this warplab reads ${REPORT_SCHEMA} v${REPORT_SCHEMA_VERSION}${hint}`);
}

/** Reads report.json, refusing other schemas and versions. */
export function loadRun(runDir: string): ProbeRun {
  const { path, run } = readReport(runDir);
  if (run.schema !== REPORT_SCHEMA || run.schemaVersion !== REPORT_SCHEMA_VERSION) throw versionError(path, run);
  return run as ProbeRun;
}

/** Re-analyses from the raw logs when all are present (an older version's input too), else
 *  keeps the recorded results. */
export function reloadRun(runDir: string): { run: ProbeRun; reanalyzed: boolean } {
  const { path, run } = readReport(runDir);
  const current = run.schemaVersion === REPORT_SCHEMA_VERSION;
  if (run.schema !== REPORT_SCHEMA || !(current || REANALYSABLE_VERSIONS.includes(run.schemaVersion as number))) throw versionError(path, run);
  const input = run.input as RunInput;
  if (input.trials.every((t) => t.streams.every((s) => existsSync(join(runDir, s.log))))) return { run: analyzeRun(input, runDir), reanalyzed: true };
  if (!current) throw versionError(path, run, '; re-analysing it needs the raw logs it names');
  return { run: run as ProbeRun, reanalyzed: false };
}
