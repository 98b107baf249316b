// A VM that never comes back after its migration, beside one that does: every figure, table,
// threshold and report must say "did not resume", never quote the pre-copy gap before it.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeTable } from '../../cli/commands/migrate.js';
import { summaryTable } from '../../cli/commands/run.js';
import { singleHostClock } from '../../probe/clock.js';
import { encodeArrivalLog, type ArrivalRecord } from '../../probe/log.js';
import type { TimelineEvent } from '../../probe/timeline.js';
import { metricValues } from '../../report/metrics.js';
import { writeReports } from '../../report/reporter.js';
import { analyzeRun, type RunInput } from '../../report/run.js';
import { removeDir, tempStateDir } from '../helpers.js';

const T0 = 1_763_900_000_000;
const SILENT = 'did not resume (silent for 600 ms until the end of the trial)';

/**
 * 1 ms stream of vm-a for 1 s with a 15 ms pre-copy gap (200 → 215 ms) and the VM's pause
 * from 400 ms. Trial 1: back at 450 ms (a 50 ms gap). Trial 2: never back; the recording
 * ends at 1000 ms, so the stream is silent for 600 ms.
 */
function arrivals(base: number, back: boolean): ArrivalRecord[] {
  const rows: ArrivalRecord[] = [];
  for (let seq = 0; seq < 1000; seq++) {
    if ((seq > 200 && seq < 215) || (seq > 400 && (!back || seq < 450))) continue;
    rows.push({ seq, stream: 1, sendMs: base + seq, recvMs: base + seq });
  }
  return rows;
}

/** The same migration events in both trials: the destination resumes at 440 ms. */
function events(base: number): TimelineEvent[] {
  const e = (ms: number, kind: TimelineEvent['kind']): TimelineEvent => ({ atMs: base + ms, kind, source: 'test' });
  return [e(100, 'migration-started'), e(400.5, 'source-stopped'), e(440, 'destination-resumed'), e(441, 'rarp-seen'), e(445, 'first-packet-new-path'), e(460, 'migration-completed')];
}

/** Trial 1 comes back, trial 2 does not (or the trials asked for). */
function runInput(dir: string, trials = [true, false]): RunInput {
  mkdirSync(join(dir, 'raw'), { recursive: true });
  return {
    name: 'never-back',
    createdAt: '2026-11-23T12:00:00.000Z',
    clock: singleHostClock(),
    analysis: {},
    thresholds: [
      { metric: 'downtimeMs', max: 1e9 },
      { metric: 'downtimeMs', max: 1e9, statistic: 'median' },
      { metric: 'resumeToFirstPacketMs', max: 1e9 },
      { metric: 'noiseFloorMs', max: 1e9 },
    ],
    trials: trials.map((back, i) => {
      const base = T0 + i * 10_000;
      const log = `raw/trial-${i + 1}.bin`;
      writeFileSync(join(dir, log), encodeArrivalLog(arrivals(base, back), T0));
      return { label: `trial ${i + 1}`, events: events(base), streams: [{ label: 'vm-a→U', workload: 'vm-a', log, stream: 1, intervalMs: 1, sender: null, receiver: null, endedMs: base + 1000 }] };
    }),
  };
}

describe('a stream that did not resume', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = tempStateDir()));
  afterEach(() => removeDir(dir));

  it('is flagged with its silence until the end, in the analysis and every figure of it', () => {
    const run = analyzeRun(runInput(dir), dir);
    const [back, gone] = run.trials.map((t) => t.streams[0]!.analysis);
    assert.deepEqual([back!.windows[0]!.resumed, back!.windows[0]!.downtimeMs, back!.windows[0]!.resumeToFirstPacketMs, back!.didNotResume], [true, 50, 10, 0]);
    assert.deepEqual([gone!.windows[0]!.resumed, gone!.windows[0]!.downtimeMs, gone!.windows[0]!.downtimeGap, gone!.windows[0]!.resumeToFirstPacketMs, gone!.didNotResume], [false, 600, null, null, 1]);
    assert.equal(gone!.gaps[0]!.durationMs, 15, 'the pre-copy gap is still listed, just not as the downtime');

    const value = (metric: 'downtimeMs' | 'resumeToFirstPacketMs' | 'disruptionMs' | 'switchingMs') => metricValues(run.trials, metric).map((v) => [v.value, v.didNotResume]);
    assert.deepEqual(value('downtimeMs'), [[50, false], [600, true]]);
    assert.deepEqual(value('resumeToFirstPacketMs'), [[10, false], [600, true]]);
    assert.deepEqual(value('disruptionMs'), [[15, false], [600, true]], 'steady between pre-copy and pause: the disruption is the first gap');
    assert.deepEqual(value('switchingMs'), [[4, false], [4, false]], "the network's switching happened all the same");
    // a stream that carries no workload's packets has no resume → first packet, flagged or not
    const input = runInput(join(dir, 'plain'));
    for (const t of input.trials) delete t.streams[0]!.workload;
    assert.deepEqual(metricValues(analyzeRun(input, join(dir, 'plain')).trials, 'resumeToFirstPacketMs').map((v) => [v.value, v.didNotResume]), [[null, false], [null, false]]);
    const row = run.statistics.find((r) => r.metric === 'downtimeMs')!;
    assert.deepEqual([row.summary?.n, row.summary?.max, row.didNotResume], [1, 50, 1]);
  });

  it('fails every downtime threshold, whatever the maximum, and says why', () => {
    const run = analyzeRun(runInput(dir), dir);
    assert.deepEqual(
      run.thresholds.map((t) => [t.name, t.passed, t.failures]),
      [
        ['downtimeMs ≤ 1000000000 ms (every trial)', false, [`trial 2 vm-a→U: ${SILENT}`]],
        ['downtimeMs ≤ 1000000000 ms (median over trials)', false, [`trial 2 vm-a→U: ${SILENT}`]],
        ['resumeToFirstPacketMs ≤ 1000000000 ms (every trial)', false, [`trial 2 vm-a→U: ${SILENT}`]],
        ['noiseFloorMs ≤ 1000000000 ms (every trial)', true, []],
      ],
    );
  });

  it('shows in report.md, junit.xml, the SVG timeline and the console tables', async () => {
    const run = analyzeRun(runInput(dir), dir);
    await writeReports(run, dir);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const cells = (l: string) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, ''));
    const trialRow = (trial: string) => cells(md.split('\n').find((l) => l.startsWith(`| ${trial} | vm-a→U |`))!);
    assert.deepEqual(trialRow('trial 1').slice(7), ['50.00 ms', '15.00 ms', '1.00 ms', '4.00 ms', '10.00 ms']);
    assert.deepEqual(trialRow('trial 2').slice(7), [`**${SILENT}**`, `**${SILENT}**`, '1.00 ms', '4.00 ms', `**${SILENT}**`]);
    const summary = cells(md.split('\n').find((l) => l.startsWith('| downtime (largest gap in a window) | vm-a→U |'))!);
    assert.deepEqual(summary.slice(2, 8), ['1 + 1 did not resume', '50.00 ms', '—', '50.00 ms', '50.00 ms', 'did not resume']);
    assert.match(md, /\| \*\*FAIL\*\* \| downtimeMs ≤ 1000000000 ms \(every trial\) \| trial 2 vm-a→U: did not resume \(silent for 600 ms until the end of the trial\) \|/);
    assert.match(md, /\| 400\.000 \| did not resume \| vm-a→U \| migration 1: did not resume \(silent for 600 ms/);

    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(junit, /name="downtimeMs ≤ 1000000000 ms \(every trial\)">\s*<failure message="trial 2 vm-a→U: did not resume \(silent for 600 ms until the end of the trial\)" type="threshold">/);

    const svg = (n: number) => readFileSync(join(dir, `timeline-trial-${n}.svg`), 'utf8');
    assert.match(svg(2), /VM-A→U: DID NOT RESUME \(SILENT FOR 600 MS UNTIL THE END OF THE TRIAL\)/);
    assert.match(svg(2), /red: DID NOT RESUME: vm-a→U/);
    assert.match(svg(2), /fill="#d62728"/);
    assert.doesNotMatch(svg(1), /DID NOT RESUME|#d62728/);

    const console = summaryTable({ run });
    const line = (metric: string) => console.split('\n').find((l) => l.startsWith(metric))!;
    assert.match(line('downtimeMs (ms)'), /^downtimeMs \(ms\)\s+vm-a→U\s+1 \+ 1 did not resume\s+50\.0\s+-\s+50\.0\s+50\.0\s+did not resume\s+790 \(σ 260\)/);
    assert.match(line('resumeToFirstPacketMs (ms)'), /1 \+ 1 did not resume\s+10\.0 .*did not resume/);
    const moved = join(dir, 'moved');
    assert.match(probeTable(analyzeRun(runInput(moved, [false]), moved)), /^vm-a→U\s+did not resume \(silent for 600 ms until the end of the trial\)\s+did not resume \(silent for 600 ms until the end of the trial\)\s+387\s+14$/m);
    assert.match(probeTable(analyzeRun(runInput(join(dir, 'back'), [true]), join(dir, 'back'))), /^vm-a→U\s+50\.00 ms\s+10\.00 ms\s+937\s+63$/m);
  });
});
