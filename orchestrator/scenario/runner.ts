// Runs a scenario: the lab up (or a running one reused), the steps in every trial while the
// streams record, the reset steps between trials, the lab down again — whatever happened —
// and the reports of the whole series (report.json/md, junit.xml, SVG timelines).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Interrupted, SubstrateError, WarplabError } from '../errors.js';
import { attach, listLabs, up, type StartedLab } from '../lab/lab.js';
import { defaultStateDir } from '../lab/state.js';
import { singleHostClock } from '../probe/clock.js';
import { probeBinary } from '../probe/binaries.js';
import { monitorLinks, type LinkMonitor } from '../probe/link-monitor.js';
import { startProbeStream, type ProbeStream, type StreamCapture } from '../probe/stream.js';
import { EventLog } from '../probe/timeline.js';
import type { Measurement } from '../report/measurements.js';
import { writeReports } from '../report/reporter.js';
import { analyzeRun, streamInput, type CheckResult, type ProbeRun, type TrialInput } from '../report/run.js';
import type { ProgressEvent } from '../substrate/substrate.js';
import { keepLabWorkloadLogs } from '../workload/logs.js';
import { startWorkloadStreams } from '../workload/streams.js';
import type { Scenario, StepSpec } from './model.js';
import type { RunContext, StepContext } from './step.js';
import { getStep } from './steps/index.js';
import { strategyFor } from '../migration/strategy.js';
import type { PaperReference } from '../report/references.js';
import { firstAddress } from './steps/where.js';

/** The papers' figures for the strategies the scenario's moves use (a move names one, or takes the topology's). */
function referencesOf(s: Scenario): PaperReference[] {
  const moves = s.steps.filter((x) => x.kind === 'migrate').map((x) => (x.args as { strategy?: string }).strategy);
  const names = [...new Set(moves.map((m) => strategyFor(s.topology, m).name))];
  return names.flatMap((n) => strategyFor(s.topology, n).references ?? []);
}

export interface RunOptions {
  /** Trials (default: the scenario's repeat). */
  repeat?: number;
  /** The run directory: reports, raw logs, scenario.json. */
  out: string;
  /** Reuse the running lab of this name; bring the scenario's topology up under it otherwise. */
  lab?: string;
  stateDir?: string;
  substrate?: string;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** Every stream program stops by itself after this long, whatever happens to warplab. */
  streamLimitS?: number;
}

export interface RunProgress {
  stage: 'up' | 'setup' | 'trial' | 'reset' | 'down' | 'report';
  trial?: number;
  trials?: number;
  /** `step 2 migrate vm-a → adc-hv`, and what it is doing. */
  detail?: string;
  up?: ProgressEvent;
}

/** What one step did in one trial. */
export interface StepRecord {
  trial: number;
  id: string;
  description: string;
  /** Ran and held. */
  ok: boolean;
  /** Assertion failures, or the error that stopped the series. */
  failures: string[];
  /** The step threw: the series stopped here. */
  error?: string;
  ms: number;
  details?: Record<string, unknown>;
  measurement?: Measurement;
}

export interface ScenarioRun {
  scenario: string;
  file: string;
  lab: string;
  /** This run brought the lab up (and took it down again). */
  broughtUp: boolean;
  out: string;
  trialsPlanned: number;
  trialsDone: number;
  /** Where the series stopped early. */
  stopped?: { trial: number; step: string; error: string };
  interrupted: boolean;
  steps: StepRecord[];
  checks: CheckResult[];
  /** The analysed series; null when no trial was recorded. */
  run: ProbeRun | null;
  files: string[];
  passed: boolean;
  /** Teardown problems (the lab may need `warplab down`). */
  teardown?: string;
}

/** A problem before the first trial (invalid input, a missing capability, a lab that would not come up): exit 2. */
export class SetupError extends WarplabError {
  override name = 'SetupError';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

const DEFAULT_STREAM_LIMIT_S = 1800;

async function openLab(s: Scenario, o: RunOptions): Promise<{ lab: StartedLab; broughtUp: boolean }> {
  const stateDir = o.stateDir ?? defaultStateDir();
  const name = o.lab ?? s.topology.name;
  if (o.lab && listLabs(stateDir).some((l) => l.name === o.lab)) {
    const lab = attach(o.lab, stateDir);
    const want = [...s.topology.nodes.map((n) => n.name), ...s.topology.workloads.map((w) => `workload ${w.name}`)].sort();
    const have = [...lab.topology.nodes.map((n) => n.name), ...lab.topology.workloads.map((w) => `workload ${w.name}`)].sort();
    if (want.join() !== have.join()) throw new SetupError(`lab ${o.lab} runs another topology than ${s.topologyFile ?? 'the scenario\'s'} (nodes and workloads differ); bring it down, or choose another --lab`);
    if (lab.snapshot.status !== 'up') throw new SetupError(`lab ${o.lab} is ${lab.snapshot.status}, not up; \`warplab down ${o.lab}\` and run again`);
    // The steps were checked from the topology's placement: a reused lab must match it.
    const moved = s.topology.workloads.filter((w) => lab.workload(w.name) && lab.workload(w.name)!.on !== w.on);
    if (moved.length) throw new SetupError(`lab ${o.lab}: ${moved.map((w) => `${w.name} runs on ${lab.workload(w.name)!.on}, the scenario starts it on ${w.on}`).join('; ')}; migrate it back first`);
    return { lab, broughtUp: false };
  }
  o.onProgress?.({ stage: 'up', detail: `bringing up lab ${name}` });
  try {
    const lab = await up(
      { ...s.topology, name },
      { ...(o.stateDir ? { stateDir: o.stateDir } : {}), ...(o.substrate ? { substrate: o.substrate } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(s.topologyFile ? { topologyFile: s.topologyFile } : {}), onProgress: (e) => o.onProgress?.({ stage: 'up', up: e }) },
    );
    return { lab, broughtUp: true };
  } catch (e) {
    if (e instanceof Interrupted || o.signal?.aborted) throw e instanceof Interrupted ? e : new Interrupted('interrupted while bringing the lab up');
    throw new SetupError(e instanceof SubstrateError ? e.message : `lab ${name} did not come up: ${(e as Error).message}`, e);
  }
}

async function startStreams(lab: StartedLab, s: Scenario, raw: string, trial: number, limitS: number): Promise<ProbeStream[]> {
  const prefix = `trial-${trial}-`;
  const t = lab.topology;
  const starts = s.streams.flatMap((spec, i): Promise<ProbeStream | ProbeStream[]>[] => {
    if (spec.kind === 'workload') {
      const w = t.workloads.find((x) => x.name === spec.workload)!;
      return [startWorkloadStreams(lab, w, { dir: raw, maxDurationS: limitS, prefix, ...(spec.echoIntervalMs ? { echoIntervalMs: spec.echoIntervalMs } : {}) })];
    }
    const one = async (label: string, from: string, to: string, addr: string, stream: number) => {
      // The programs on the nodes' machines: sent there once when that is another host.
      const programs = { send: await lab.machine(from).place(probeBinary('udp-send')), recv: await lab.machine(to).place(probeBinary('udp-recv')) };
      return startProbeStream({ label, sender: lab.shell(from), receiver: lab.shell(to), receiverNode: to, to: addr, intervalMs: spec.intervalMs, stream, maxDurationS: limitS, logPath: join(raw, `${prefix}${from}-to-${to}-${i}.bin`), programs });
    };
    return [
      one(spec.label, spec.from, spec.to, spec.address ?? firstAddress(t, spec.to)!, 10 + 2 * i),
      ...(spec.bothWays ? [one(`${spec.to}→${spec.from}`, spec.to, spec.from, spec.returnAddress ?? firstAddress(t, spec.from)!, 11 + 2 * i)] : []),
    ];
  });
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value].flat() : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll(started);
    throw failed.reason;
  }
  return started;
}

async function stopAll(streams: ProbeStream[]): Promise<StreamCapture[]> {
  const r = await Promise.allSettled(streams.map((s) => s.stop()));
  return r.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Runs one step; an error is returned (the series stops), an interruption thrown. */
async function runStep(step: StepSpec, trial: number, ctx: StepContext): Promise<StepRecord> {
  const kind = getStep(step.kind);
  const t0 = performance.now();
  const base = { trial, id: step.id, description: step.description };
  try {
    if (ctx.signal?.aborted) throw new Interrupted(`interrupted before ${step.id}`);
    const out = await kind.run(step.args, ctx);
    const failures = out?.failures ?? [];
    return { ...base, ok: !failures.length, failures, ms: performance.now() - t0, ...(out?.details ? { details: out.details } : {}), ...(out?.measurement ? { measurement: out.measurement } : {}) };
  } catch (e) {
    if (e instanceof Interrupted || ctx.signal?.aborted) throw e instanceof Interrupted ? e : new Interrupted(`interrupted during ${step.id}: ${message(e)}`);
    return { ...base, ok: false, failures: [message(e)], error: (e as Error).message ?? String(e), ms: performance.now() - t0 };
  }
}

/** One JUnit case for the series and one per step: its failures in every trial. */
export function checksOf(s: Scenario, r: Pick<ScenarioRun, 'trialsPlanned' | 'trialsDone' | 'stopped' | 'interrupted' | 'steps'>): CheckResult[] {
  const series: CheckResult = {
    name: 'every trial ran to the end',
    passed: r.trialsDone === r.trialsPlanned && !r.stopped && !r.interrupted,
    failures: [
      ...(r.stopped ? [`stopped in trial ${r.stopped.trial} at ${r.stopped.step}: ${message(r.stopped.error)}`] : []),
      ...(r.interrupted ? [`interrupted after ${r.trialsDone} of ${r.trialsPlanned} trials`] : []),
    ],
  };
  if (!series.passed && !series.failures.length) series.failures.push(`${r.trialsDone} of ${r.trialsPlanned} trials done`);
  const steps = [...s.steps, ...s.reset].flatMap((step) => {
    const records = r.steps.filter((x) => x.id === step.id);
    if (!records.length) return [];
    const failures = records.flatMap((x) => x.failures.map((f) => `trial ${x.trial}: ${f}`));
    return [{ name: `${step.id}: ${step.description}`, passed: !failures.length, failures }];
  });
  return [series, ...steps];
}

export async function runScenario(s: Scenario, o: RunOptions): Promise<ScenarioRun> {
  const planned = o.repeat ?? s.repeat;
  const raw = join(o.out, 'raw');
  const { lab, broughtUp } = await openLab(s, o);
  const result: ScenarioRun = { scenario: s.name, file: s.file, lab: lab.name, broughtUp, out: o.out, trialsPlanned: planned, trialsDone: 0, interrupted: false, steps: [], checks: [], run: null, files: [], passed: false };
  const trials: TrialInput[] = [];
  let clock = singleHostClock();
  /** Arrivals carry the receiver host's clock: its offset is taken off them. */
  const offsetOf = (c: StreamCapture) => {
    const host = c.receiverNode && lab.hostOf(c.receiverNode);
    const o = host && clock.offsets.find((x) => x.of === `host ${host}`);
    return o ? { clockOffsetMs: o.offsetMs } : {};
  };
  const run: RunContext = { lab, monitored: new Set(), cache: new Map(), ...(o.signal ? { signal: o.signal } : {}) };
  try {
    mkdirSync(raw, { recursive: true });
    if (lab.snapshot.topology.hosts) o.onProgress?.({ stage: 'setup', detail: "estimating the hosts' clock offsets" });
    clock = await lab.clock();
    o.onProgress?.({ stage: 'setup', detail: 'resolving links' });
    try {
      for (const step of [...s.steps, ...s.reset]) await getStep(step.kind).setup?.(step.args, run);
    } catch (e) {
      if (o.signal?.aborted) throw new Interrupted('interrupted before the first trial');
      throw new SetupError(`cannot prepare the steps on lab ${lab.name}: ${message(e)}`, e);
    }
    for (let i = 1; i <= planned && !result.stopped; i++) {
      const events = new EventLog();
      const progress = (stage: 'trial' | 'reset') => (detail: string) => o.onProgress?.({ stage, trial: i, trials: planned, detail });
      let streams: ProbeStream[] = [];
      let monitors: LinkMonitor[] = [];
      let interrupted = false;
      try {
        try {
          const started = await Promise.allSettled([...run.monitored].map((n) => monitorLinks(lab.shell(n), n, join(raw, `trial-${i}-${n}-links.txt`))));
          monitors = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
          const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
          streams = await startStreams(lab, s, raw, i, o.streamLimitS ?? DEFAULT_STREAM_LIMIT_S);
        } catch (e) {
          if (o.signal?.aborted) throw new Interrupted('interrupted while starting the streams');
          result.stopped = { trial: i, step: 'the streams', error: message(e) };
        }
        for (const step of result.stopped ? [] : s.steps) {
          events.record('note', 'scenario', `${step.id}: ${step.description}`);
          const rec = await runStep(step, i, { ...run, events, progress: (d) => progress('trial')(`${step.id} ${step.description}${d ? `: ${d}` : ''}`) });
          result.steps.push(rec);
          if (rec.error) {
            result.stopped = { trial: i, step: `${step.id} (${step.description})`, error: rec.error };
            break;
          }
        }
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        interrupted = true;
      } finally {
        const captures = await stopAll(streams);
        for (const m of monitors) events.events.push(...(await m.stop().catch(() => [])));
        await keepLabWorkloadLogs(lab, raw);
        // An interrupted trial is incomplete: it is left out of the series.
        if (!interrupted) trials.push({ label: `trial ${i}`, events: events.events, streams: captures.map((c) => ({ ...streamInput(c, o.out), ...offsetOf(c) })) });
      }
      if (interrupted) {
        result.interrupted = true;
        break;
      }
      if (!result.stopped) result.trialsDone = i;
      // Reset after every trial (also the last: a reused lab is left as it was found).
      for (const step of result.stopped ? [] : s.reset) {
        let rec: StepRecord;
        try {
          rec = await runStep(step, i, { ...run, events: new EventLog(), progress: (d) => progress('reset')(`${step.id} ${step.description}${d ? `: ${d}` : ''}`) });
        } catch (e) {
          if (!(e instanceof Interrupted)) throw e;
          result.interrupted = true;
          break;
        }
        result.steps.push(rec);
        if (rec.error) {
          result.stopped = { trial: i, step: `${step.id} (${step.description})`, error: rec.error };
          break;
        }
      }
      if (result.interrupted) break;
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    result.interrupted = true;
  } finally {
    if (broughtUp) {
      o.onProgress?.({ stage: 'down', detail: `taking lab ${lab.name} down` });
      await lab.down().catch((e: Error) => (result.teardown = `lab ${lab.name} was not fully removed: ${e.message}; run \`warplab down ${lab.name}\``));
    }
  }

  o.onProgress?.({ stage: 'report' });
  result.checks = checksOf(s, result);
  if (trials.length) {
    result.run = analyzeRun(
      {
        name: s.name,
        createdAt: new Date().toISOString(),
        description: [s.description, `Scenario ${s.file}, lab ${lab.name}${broughtUp ? '' : ' (reused)'}, ${result.trialsDone} of ${planned} trial(s).`].filter(Boolean).join('\n\n'),
        clock,
        analysis: {},
        thresholds: s.thresholds,
        trials,
        checks: result.checks,
        references: referencesOf(s),
        measurements: result.steps.flatMap((x) => (x.measurement ? [{ trial: x.trial, step: x.id, ...x.measurement }] : [])),
      },
      o.out,
    );
    result.files = await writeReports(result.run, o.out);
  }
  result.passed = !result.interrupted && result.checks.every((c) => c.passed) && (result.run?.thresholds.every((t) => t.passed) ?? !s.thresholds.length);
  const summary = join(o.out, 'scenario.json');
  writeFileSync(summary, JSON.stringify(scenarioSummary(result), null, 2) + '\n');
  result.files.push(summary);
  return result;
}

/** 0 every threshold and check held; 1 one failed or a step could not be done; 130 interrupted. */
export function exitCodeOf(r: Pick<ScenarioRun, 'interrupted' | 'passed'>): 0 | 1 | 130 {
  return r.interrupted ? 130 : r.passed ? 0 : 1;
}

/** The machine-readable summary (`warplab run --json`, and scenario.json in the run directory). */
export function scenarioSummary(r: ScenarioRun) {
  return {
    schema: 'warplab.scenario-run',
    // v2: statistics rows as report.json v2 (summary null when no trial resumed, didNotResume)
    schemaVersion: 2,
    scenario: r.scenario,
    file: r.file,
    lab: r.lab,
    labBroughtUp: r.broughtUp,
    out: r.out,
    passed: r.passed,
    exitCode: exitCodeOf(r),
    interrupted: r.interrupted,
    trials: { planned: r.trialsPlanned, done: r.trialsDone },
    ...(r.stopped ? { stopped: r.stopped } : {}),
    ...(r.teardown ? { teardown: r.teardown } : {}),
    thresholds: (r.run?.thresholds ?? []).map((t) => ({ name: t.name, passed: t.passed, failures: t.failures })),
    checks: r.checks,
    statistics: r.run?.statistics ?? [],
    sdKind: r.run?.sdKind ?? null,
    references: r.run ? r.run.references.map((x) => ({ ...x, note: 'paper figure, not measured by warplab' })) : [],
    steps: r.steps,
    files: r.files,
  };
}

