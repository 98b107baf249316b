// Gating: a scenario's thresholds and step checks evaluated on a synthetic series, the JUnit
// file naming what failed, and the exit codes of `warplab run` for each outcome.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { singleHostClock } from '../../probe/clock.js';
import { encodeArrivalLog, type ArrivalRecord } from '../../probe/log.js';
import type { TimelineEvent } from '../../probe/timeline.js';
import { writeReports } from '../../report/reporter.js';
import { analyzeRun } from '../../report/run.js';
import { parseScenario } from '../../scenario/load.js';
import { checksOf, exitCodeOf, type StepRecord } from '../../scenario/runner.js';
import { fixtures, removeDir, tempStateDir } from '../helpers.js';

const T0 = 1_763_900_000_000;
const icoin = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');
const SCENARIO = `
name: gate
topology: ${icoin}
repeat: 3
streams: [{workload: vm-a}]
steps:
  - wait: 400
  - migrate: {workload: vm-a, to: adc-hv}
  - reach: {from: U, to: vm-a, expect: reachable}
reset:
  - migrate: {workload: vm-a, to: pdc-hv}
thresholds:
  - max-downtime-ms: 250
  - {max-switching-ms: 50, statistic: median}
  - {max-migration-ms: 350}
  - {max-lost-packets: 0, stream: "vm-a→U"}
`;
/** Silence per trial on both streams (10 ms streams, 1 s each). */
const GAPS = [150, 200, 300];

function trialLog(trial: number, gap: number): ArrivalRecord[] {
  const base = T0 + trial * 10_000;
  const rows: ArrivalRecord[] = [];
  for (let seq = 0; seq < 100; seq++) {
    const at = seq * 10;
    if (at > 400 && at < 400 + gap) continue;
    rows.push({ seq, stream: 1, sendMs: base + at, recvMs: base + at + 0.1 });
  }
  return rows;
}

function events(trial: number, gap: number): TimelineEvent[] {
  const at = T0 + trial * 10_000;
  const e = (ms: number, kind: TimelineEvent['kind']): TimelineEvent => ({ atMs: at + ms, kind, source: 'test' });
  return [e(390, 'migration-started'), e(400 + gap, 'destination-resumed'), e(401 + gap, 'rarp-seen'), e(401 + gap + 10 * (trial + 1), 'first-packet-new-path'), e(450 + gap, 'migration-completed')];
}

const run = (args: string[]) => spawnSync(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), 'run', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });

describe('scenario gating', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = tempStateDir()));
  afterEach(() => removeDir(dir));

  it('thresholds and step checks become JUnit cases; the failing ones say which trial and why', async () => {
    const s = parseScenario(SCENARIO, join(packageRoot, 'gate.yaml'));
    mkdirSync(join(dir, 'raw'));
    const trials = GAPS.map((gap, i) => {
      const log = `raw/trial-${i + 1}.bin`;
      writeFileSync(join(dir, log), encodeArrivalLog(trialLog(i, gap), T0));
      return { label: `trial ${i + 1}`, events: events(i, gap), streams: [{ label: 'vm-a→U', log, stream: 1, intervalMs: 10, sender: null, receiver: null }] };
    });
    const steps: StepRecord[] = [1, 2, 3].flatMap((trial) => [
      { trial, id: 'step 1', description: 'wait 400 ms', ok: true, failures: [], ms: 400 },
      { trial, id: 'step 2', description: 'migrate vm-a → adc-hv', ok: true, failures: [], ms: 300 },
      { trial, id: 'step 3', description: 'reach U → vm-a: reachable', ok: trial !== 2, failures: trial === 2 ? ['U did not reach vm-a (172.16.10.2); expected reachable'] : [], ms: 5 },
    ]);
    const checks = checksOf(s, { trialsPlanned: 3, trialsDone: 3, interrupted: false, steps });
    const analysed = analyzeRun({ name: s.name, createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: s.thresholds, trials, checks }, dir);
    assert.deepEqual(
      analysed.thresholds.map((t) => [t.name, t.passed, t.failures]),
      [
        ['downtimeMs ≤ 250 ms (every trial)', false, ['trial 3 vm-a→U: 300 > 250']],
        ['switchingMs ≤ 50 ms (median over trials)', true, []],
        ['migrationMs ≤ 350 ms (every trial)', false, ['trial 3: 360 > 350']],
        ['lost ≤ 0 (every trial, vm-a→U)', false, ['trial 1 vm-a→U: 14 > 0', 'trial 2 vm-a→U: 19 > 0', 'trial 3 vm-a→U: 29 > 0']],
      ],
    );
    assert.deepEqual(
      checks.map((c) => [c.name, c.passed, c.failures]),
      [
        ['every trial ran to the end', true, []],
        ['step 1: wait 400 ms', true, []],
        ['step 2: migrate vm-a → adc-hv', true, []],
        ['step 3: reach U → vm-a: reachable', false, ['trial 2: U did not reach vm-a (172.16.10.2); expected reachable']],
      ],
    );
    await writeReports(analysed, dir, ['junit', 'markdown']);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(junit, /<testsuites name="warplab.probe.gate" tests="8" failures="4">/);
    assert.match(junit, /name="downtimeMs ≤ 250 ms \(every trial\)">\s*<failure message="trial 3 vm-a→U: 300 &gt; 250" type="threshold">/);
    assert.match(junit, /name="step 3: reach U → vm-a: reachable">\s*<failure message="trial 2: U did not reach vm-a \(172.16.10.2\); expected reachable" type="check">/);
    assert.match(junit, /<testcase classname="warplab.probe.gate" name="step 2: migrate vm-a → adc-hv"\/>/);
    assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /## Checks[\s\S]*\| \*\*FAIL\*\* \| step 3: reach U → vm-a: reachable \| trial 2: U did not reach/);
  });

  it('a series that stopped, or was interrupted, fails its "trials" case', () => {
    const s = parseScenario(SCENARIO, join(packageRoot, 'gate.yaml'));
    const stopped = checksOf(s, { trialsPlanned: 3, trialsDone: 1, interrupted: false, stopped: { trial: 2, step: 'step 2 (migrate vm-a → adc-hv)', error: 'migration of vm-a from pdc-hv to adc-hv failed: QEMU: boom; vm-a still runs on pdc-hv' }, steps: [{ trial: 2, id: 'step 2', description: 'migrate vm-a → adc-hv', ok: false, failures: ['migration … failed'], error: 'migration … failed', ms: 1 }] });
    assert.deepEqual(stopped[0], { name: 'every trial ran to the end', passed: false, failures: ['stopped in trial 2 at step 2 (migrate vm-a → adc-hv): migration of vm-a from pdc-hv to adc-hv failed: QEMU: boom; vm-a still runs on pdc-hv'] });
    assert.deepEqual(stopped.map((c) => c.name), ['every trial ran to the end', 'step 2: migrate vm-a → adc-hv'], 'steps never run are not cases');
    const cut = checksOf(s, { trialsPlanned: 3, trialsDone: 2, interrupted: true, steps: [] });
    assert.deepEqual(cut[0]!.failures, ['interrupted after 2 of 3 trials']);
  });

  it('exit codes: 0 all held, 1 something failed, 130 interrupted', () => {
    assert.equal(exitCodeOf({ passed: true, interrupted: false }), 0);
    assert.equal(exitCodeOf({ passed: false, interrupted: false }), 1);
    assert.equal(exitCodeOf({ passed: false, interrupted: true }), 130);
  });

  describe('`warplab run` exits 2 on usage and setup errors, before touching anything', () => {
    it('an invalid scenario: every problem with file:line:col', () => {
      const file = join(fixtures, 'broken-scenarios', 'bad-references.yaml');
      const r = run([file, '--out', join(dir, 'out')]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^15 problems found:\n/);
      assert.match(r.stderr, /bad-references\.yaml:\d+:\d+: steps\[0\]\.migrate\.to: R2 is an edge-router; workloads move between hypervisors\n    hint: hypervisors: pdc-hv, adc-hv/);
    });
    it('a bad --repeat', () => {
      assert.equal(run([join(packageRoot, 'topologies', 'scenarios', 'icoin2011-vm-migration.yaml'), '--repeat', '0']).status, 2);
    });
    it('--repeat N on a scenario whose trial does not return the VM', () => {
      const file = join(dir, 'one-way.yaml');
      writeFileSync(file, `name: one-way\ntopology: ${icoin}\nsteps:\n  - migrate: {workload: vm-a, to: adc-hv}\n`);
      const r = run([file, '--repeat', '2', '--dry-run']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--repeat 2: vm-a ends on adc-hv, not on pdc-hv where it started/);
    });
    it('an unknown substrate (a setup error), leaving no run directory', () => {
      const r = run([join(packageRoot, 'topologies', 'scenarios', 'icn2011-extranet-matrix.yaml'), '--substrate', 'nosuch', '--out', join(dir, 'out'), '--state-dir', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /substrate "nosuch" is not supported/);
      assert.equal(spawnSync('ls', [join(dir, 'out')]).status, 2, 'no run directory');
    });
    it('--dry-run of a shipped scenario validates and prints the plan (exit 0)', () => {
      const r = run([join(packageRoot, 'topologies', 'scenarios', 'icoin2011-vm-migration.yaml'), '--dry-run', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const plan = JSON.parse(r.stdout);
      assert.deepEqual([plan.lab, plan.repeat, plan.steps[1], plan.reset[0]], ['icoin', 3, 'step 2: migrate vm-a → adc-hv', 'reset 1: migrate vm-a → pdc-hv']);
    });
  });
});
