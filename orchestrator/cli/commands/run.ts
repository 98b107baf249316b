import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Interrupted, TopologyError } from '../../errors.js';
import { SD_KIND } from '../../probe/stats.js';
import { statisticCells } from '../../report/format.js';
import { MEASUREMENT_HEAD, measurementCells } from '../../report/measurements.js';
import { metrics, type MetricName } from '../../report/metrics.js';
import { applySubstrateFlags, withSubstrateOptions, type SubstrateFlags } from '../substrate-options.js';
import { loadScenarioFile, ScenarioError } from '../../scenario/load.js';
import { exitCodeOf, runScenario, scenarioSummary, SetupError, type RunProgress, type ScenarioRun } from '../../scenario/runner.js';
import type { Scenario } from '../../scenario/model.js';
import { interruptible, printJson, stateDirOption, table } from '../output.js';

/** The figures the summary shows (report.md has them all). */
const SHOWN: MetricName[] = ['downtimeMs', 'switchingMs', 'resumeToFirstPacketMs', 'migrationMs', 'disruptionMs', 'lost', 'lossRatio', 'noiseFloorMs'];

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

/** warplab-runs/NAME-2026-11-23T14-00-00 in the current directory. */
function defaultOut(name: string): string {
  return resolve('warplab-runs', `${name}-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`);
}

function cell(unit: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (unit === 'ratio') return `${(v * 100).toFixed(2)} %`;
  if (unit !== 'ms') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return v.toFixed(1);
}

/** Our figures; the papers' only in the last, labelled column. */
export function summaryTable(r: Pick<ScenarioRun, 'run'>): string {
  const run = r.run;
  if (!run) return '(no trial was recorded)';
  const migrations = run.trials.some((t) => t.windows.some((w) => w.kind === 'migration'));
  const rows = run.statistics
    .filter((s) => SHOWN.includes(s.metric))
    .sort((a, b) => SHOWN.indexOf(a.metric) - SHOWN.indexOf(b.metric))
    .map((s) => {
      const unit = metrics[s.metric].unit;
      const ref = migrations ? run.references.find((x) => x.metric === s.metric) : undefined;
      const u = unit === 'ms' ? ' (ms)' : '';
      return [`${s.metric}${u}`, s.stream ?? 'all', ...statisticCells(s, (v) => cell(unit, v)), ref ? `${ref.mean} (σ ${ref.sd}) ${ref.source}` : ''];
    });
  if (!rows.length) return '(no stream figures: this scenario records no streams)';
  return table(['FIGURE', 'STREAM', 'N', 'MEAN', 'SD', 'MIN', 'MEDIAN', 'MAX', 'PAPER (REFERENCE, NOT MEASURED HERE)'], rows);
}

function printRun(s: Scenario, r: ScenarioRun): void {
  console.log(`scenario ${s.name}: ${r.trialsDone} of ${r.trialsPlanned} trial(s) on lab ${r.lab}${r.broughtUp ? '' : ' (reused)'}`);
  console.log('');
  console.log(summaryTable(r));
  const measured = r.run?.input.measurements ?? [];
  if (measured.length) console.log(`\n${table(MEASUREMENT_HEAD, measured.map(measurementCells))}`);
  if (r.run?.statistics.length || measured.length) console.log(`\nσ: ${SD_KIND} standard deviation; all figures in report.md`);
  const lines = [...(r.run?.thresholds ?? []).map((t) => ({ ...t, kind: 'threshold' })), ...r.checks.map((c) => ({ ...c, kind: 'check' }))];
  if (lines.length) console.log('');
  for (const t of lines) console.log(`${t.passed ? 'pass' : 'FAIL'}  ${t.name}${t.passed ? '' : `\n        ${t.failures.join('\n        ')}`}`);
  if (r.teardown) console.log(`\nwarning: ${r.teardown}`);
  const failed = lines.filter((x) => !x.passed).length;
  console.log(`\n${r.interrupted ? 'INTERRUPTED' : r.passed ? 'PASS' : `FAIL (${failed} failed)`}: reports in ${r.out}`);
}

export function runCommand(): Command {
  return withSubstrateOptions(
    new Command('run')
      .description('run a scenario: bring the lab up, run its steps N times while probe streams record, tear down, report, gate on thresholds')
      .argument('<scenario>', 'scenario YAML file (topologies/scenarios/*.yaml)')
      .option('-n, --repeat <n>', "trials (default: the scenario's repeat)", positive)
      .option('-o, --out <dir>', 'run directory for the reports (default: ./warplab-runs/NAME-TIMESTAMP)')
      .option('--lab <name>', 'reuse this running lab (left up), or bring the topology up under this name'),
  )
    .addOption(stateDirOption())
    .addOption(new Option('--dry-run', 'validate the scenario and its topology, print the plan, run nothing (no root needed)'))
    .option('--json', 'print the machine-readable summary (also written to OUT/scenario.json)')
    .addHelpText('after', `
In every trial the streams start, the steps run in order, the streams stop; then the reset
steps (not measured) bring the lab back to where a trial starts. The lab is taken down at
the end, also on failure or Ctrl-C — unless it was reused with --lab. The run directory gets
report.json, report.md, junit.xml (one test case per threshold and per step), an SVG
timeline per trial, raw/ logs and scenario.json.

Exit status: 0 every threshold and check held; 1 one failed (or a step could not be done);
2 invalid scenario, usage or setup error (a missing capability, a lab that did not come up);
130 interrupted (Ctrl-C), after tearing down.

Example (the ICOIN 2011 migration, five trials):
  $ warplab run --dry-run topologies/scenarios/icoin2011-vm-migration.yaml
  $ sudo warplab run topologies/scenarios/icoin2011-vm-migration.yaml --repeat 5 --out runs/icoin
  $ sudo warplab run topologies/scenarios/icn2011-extranet-matrix.yaml --lab fig4-ci --json
  $ sudo warplab run topologies/scenarios/icoin2011-vm-migration.yaml -s docker   # nodes as containers`)
    .action(async (file: string, opts: SubstrateFlags & { repeat?: number; out?: string; lab?: string; stateDir: string; dryRun?: boolean; json?: boolean }) => {
      applySubstrateFlags(opts);
      let s: Scenario;
      try {
        s = await loadScenarioFile(file, opts.repeat !== undefined ? { repeat: opts.repeat } : {});
      } catch (e) {
        if (!(e instanceof ScenarioError || e instanceof TopologyError)) throw e;
        console.error(e.message);
        process.exitCode = 2;
        return;
      }
      if (opts.dryRun) {
        const plan = { scenario: s.name, topology: s.topologyFile ?? '(inline)', lab: opts.lab ?? s.topology.name, repeat: opts.repeat ?? s.repeat, streams: s.streams, steps: s.steps.map((x) => `${x.id}: ${x.description}`), reset: s.reset.map((x) => `${x.id}: ${x.description}`), thresholds: s.thresholds };
        if (opts.json) return printJson(plan);
        console.log(`ok  ${file}: scenario ${plan.scenario} on ${plan.topology} (lab ${plan.lab}), ${plan.repeat} trial(s)`);
        for (const line of [...plan.steps, ...plan.reset]) console.log(`  ${line}`);
        return;
      }
      const live = !!process.stderr.isTTY && !process.env.CI && !opts.json;
      const started = performance.now();
      const show = (p: RunProgress) => {
        if (!live) return;
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        const what = p.up ? `up: ${p.up.stage} ${p.up.done}/${p.up.total}` : `${p.stage}${p.trial ? ` ${p.trial}/${p.trials}` : ''}${p.detail ? ` · ${p.detail}` : ''}`;
        process.stderr.write(`\r\x1b[K${what.slice(0, (process.stderr.columns ?? 100) - 8)}  ${secs}s`);
      };
      const irq = interruptible();
      let r: ScenarioRun;
      try {
        r = await runScenario(s, {
          out: resolve(opts.out ?? defaultOut(s.name)),
          ...(opts.repeat !== undefined ? { repeat: opts.repeat } : {}),
          ...(opts.lab ? { lab: opts.lab } : {}),
          ...(opts.substrate ? { substrate: opts.substrate } : {}),
          stateDir: opts.stateDir,
          signal: irq.signal,
          onProgress: show,
        });
      } catch (e) {
        if (live) process.stderr.write('\r\x1b[K');
        if (e instanceof Interrupted) throw e;
        if (e instanceof SetupError) {
          console.error(`warplab: ${e.message}`);
          process.exitCode = 2;
          return;
        }
        throw e;
      } finally {
        irq.dispose();
      }
      if (live) process.stderr.write('\r\x1b[K');
      if (opts.json) printJson(scenarioSummary(r));
      else printRun(s, r);
      process.exitCode = exitCodeOf(r);
    });
}
