// @root: a 1 ms probe stream in both directions across a real lab while a link is cut for
// 200 ms, five times (orchestrator/bench/link-cut.ts: how, and why a bridge port). The gap
// must sit on the cut: its edges, the receiver's kernel timestamps of the last packet before
// and the first after, against the cut's own stamps from `ip monitor`.
//
// Tolerance. How far the edges may lie from the stamps depends on the machine's load, so
// it is measured in this test: T is the largest noise floor (largest inter-arrival outside
// the cuts) of any stream in any trial. The last packet before the cut arrives before the
// link goes down, and the next one would have come within one interval I plus the stream's
// lateness (≤ T); `ip monitor` stamps a change when it gets to read it, late by up to T too
// (on a quiet machine T ≈ I still covers its wake-up). So for each edge, down (monitor −
// last packet) and up (first packet − monitor): −T ≤ edge ≤ I + 2T. How close they are on
// a given machine is a benchmark figure: `npm run bench:probe`.
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CUT_INTERVAL_MS as I, cutEdges, cutTrial, linkCutTopology, prepareCut } from '../../bench/link-cut.js';
import { up } from '../../lab/lab.js';
import { singleHostClock } from '../../probe/clock.js';
import { metricValues } from '../../report/metrics.js';
import { writeReports } from '../../report/reporter.js';
import { analyzeRun, type RunInput, type TrialInput } from '../../report/run.js';
import { parseTopology } from '../../topology/load.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireRoot, tempStateDir, testName } from '../helpers.js';

const LAB = testName('probe-cut');
const CUT_MS = 200;
const TRIALS = 5;

describe('@root probe stream across a lab with a 200 ms link cut', function () {
  this.timeout(180_000);
  let stateDir: string;
  let runDir: string;
  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    runDir = tempStateDir();
    mkdirSync(join(runDir, 'raw'));
  });
  afterEach(async function () {
    await cleanStateDir(stateDir);
    keepRunDirIfFailed(this, runDir);
  });

  it(`places the gap on the cut in both directions, ${TRIALS} times, within the noise this run measured, and reports it`, async () => {
    const trials: TrialInput[] = [];
    {
      await using lab = await up(parseTopology(linkCutTopology(LAB), 'probe-cut.yaml'), { stateDir });
      const port = await prepareCut(lab);
      for (let i = 1; i <= TRIALS; i++) {
        const trial = await cutTrial(lab, port, CUT_MS, `trial ${i}`, runDir);
        assert.deepEqual(trial.events.map((e) => e.kind), ['note', 'link-down', 'link-up'], 'ip monitor saw the cut');
        trials.push(trial);
      }
    }
    assert.deepEqual(labNamespaces(LAB), [], 'namespaces left');
    assert.deepEqual(labProcesses(LAB), [], 'udp-send/udp-recv left running');

    const input: RunInput = {
      name: 'probe-cut',
      createdAt: new Date().toISOString(),
      description: `1 ms UDP probe a↔b across router r and lan l; l's port towards b set down for ${CUT_MS} ms in each trial.`,
      clock: singleHostClock(),
      analysis: {},
      // Only what holds on any machine. Not even "gap ≥ CUT_MS": `ip` may read the "down"
      // line later than the sleep starts, and then the link is down for less.
      thresholds: [{ metric: 'duplicates', max: 0 }],
      trials,
    };
    const run = analyzeRun(input, runDir);
    const files = await writeReports(run, runDir);
    assert.equal(files.length, 3 + TRIALS);
    assert.ok(readdirSync(runDir).includes('report.md'));
    assert.deepEqual(run.thresholds.filter((t) => !t.passed).flatMap((t) => t.failures), []);
    assert.equal(metricValues(run.trials, 'downtimeMs').length, 2 * TRIALS);

    const rows = cutEdges(run);
    const T = Math.max(...rows.map((r) => r.noiseFloorMs));
    console.log(`      T = ${T.toFixed(3)} ms (largest noise floor of this run); edges down/up, ms: ${rows.map((r) => `${r.downEdgeMs.toFixed(2)}/${r.upEdgeMs.toFixed(2)}`).join(' ')}`);
    for (const r of rows) {
      const where = `${r.trial} ${r.stream} (cut ${r.cutMs.toFixed(3)} ms, gap ${r.gapMs.toFixed(3)} ms, T ${T.toFixed(3)} ms)`;
      assert.ok(r.lost > 0, `${where}: packets sent during the cut were lost`);
      for (const [edge, ms] of [['down', r.downEdgeMs], ['up', r.upEdgeMs]] as const) {
        assert.ok(ms >= -T && ms <= I + 2 * T, `${where}: ${edge} edge ${ms.toFixed(3)} ms outside [−T, I + 2T]`);
      }
    }
  });
});
