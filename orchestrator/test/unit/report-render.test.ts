// A synthetic run (three migrations, two streams) through every reporter and `warplab report`;
// beside it, a scenario's step measurements in report.md and report.json.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportCommand } from '../../cli/commands/report.js';
import { singleHostClock } from '../../probe/clock.js';
import { encodeArrivalLog, type ArrivalRecord } from '../../probe/log.js';
import type { TimelineEvent } from '../../probe/timeline.js';
import type { MeasurementRecord } from '../../report/measurements.js';
import { reporters, writeReports } from '../../report/reporter.js';
import { analyzeRun, loadRun, reloadRun, ReportError, type RunInput } from '../../report/run.js';
import { removeDir, tempStateDir } from '../helpers.js';

const T0 = 1_763_900_000_000;
const CUTS = [200, 202, 207]; // ms of silence per trial

/** 1 ms streams 1 (a→b) and 2 (b→a) for 1 s; both silent for `cut` ms from 400 ms on. */
function trialLog(trial: number, cut: number): ArrivalRecord[] {
  const base = T0 + trial * 10_000;
  const rows: ArrivalRecord[] = [];
  for (let seq = 0; seq < 1000; seq++) {
    if (seq > 400 && seq < 400 + cut) continue;
    for (const stream of [1, 2]) rows.push({ seq, stream, sendMs: base + seq, recvMs: base + seq + 0.05 * stream });
  }
  return rows;
}

/** Trial i: a migration whose stop→resume is the cut, switching (i + 1) × 10 ms. */
function migrationEvents(at: number, cut: number, i: number): TimelineEvent[] {
  const e = (ms: number, kind: TimelineEvent['kind']): TimelineEvent => ({ atMs: at + ms, kind, source: 'orchestrator' });
  return [e(300, 'migration-started'), e(400.5, 'source-stopped'), e(400.5 + cut, 'destination-resumed'), e(401 + cut, 'rarp-seen'), e(401 + cut + (i + 1) * 10, 'first-packet-new-path'), e(450 + cut, 'migration-completed')];
}

function linkCutEvents(at: number, cut: number): TimelineEvent[] {
  return [
    { atMs: at + 400.5, kind: 'link-down', source: 'l:port2' },
    { atMs: at + 400.5 + cut, kind: 'link-up', source: 'l:port2' },
  ];
}

function runInput(dir: string, events: (at: number, cut: number, i: number) => TimelineEvent[] = migrationEvents): RunInput {
  mkdirSync(join(dir, 'raw'));
  return {
    name: 'synthetic-cut',
    createdAt: '2026-11-23T12:00:00.000Z',
    clock: singleHostClock(),
    analysis: {},
    thresholds: [
      { metric: 'downtimeMs', min: 197, max: 206 },
      { metric: 'downtimeMs', statistic: 'mean', max: 205, stream: 'a→b' },
      { metric: 'lost', max: 0 },
    ],
    trials: CUTS.map((cut, i) => {
      const log = `raw/trial-${i + 1}.bin`;
      writeFileSync(join(dir, log), encodeArrivalLog(trialLog(i, cut), T0));
      const at = T0 + i * 10_000;
      return {
        label: `trial ${i + 1}`,
        events: events(at, cut, i),
        streams: [
          { label: 'a→b', log, stream: 1, intervalMs: 1, sender: null, receiver: null },
          { label: 'b→a', log, stream: 2, intervalMs: 1, sender: null, receiver: null },
        ],
      };
    }),
  };
}

describe('probe reports', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = tempStateDir()));
  afterEach(() => removeDir(dir));

  it('statistics over the trials: downtime = each cut, σ over three values', () => {
    const run = analyzeRun(runInput(dir), dir);
    const row = run.statistics.find((r) => r.metric === 'downtimeMs' && r.stream === 'a→b')!;
    assert.deepEqual({ ...row.summary!, sd: row.summary!.sd!.toFixed(6) }, { n: 3, mean: 203, sd: Math.sqrt(13).toFixed(6), min: 200, median: 202, max: 207 });
    assert.deepEqual(run.statistics.find((r) => r.metric === 'lost' && r.stream === 'b→a')!.summary!.mean, (199 + 201 + 206) / 3);
    assert.deepEqual(run.statistics.find((r) => r.metric === 'switchingMs')!.summary, { n: 3, mean: 20, sd: 10, min: 10, median: 20, max: 30 });
  });

  it('writes every format; thresholds become JUnit test cases', async () => {
    const files = await writeReports(analyzeRun(runInput(dir), dir), dir);
    assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['report.json', 'report.md', 'junit.xml', 'timeline-trial-1.svg', 'timeline-trial-2.svg', 'timeline-trial-3.svg']);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(junit, /<testsuites name="warplab.probe.synthetic-cut" tests="3" failures="2">/);
    assert.equal(junit.match(/<testcase /g)?.length, 3);
    assert.match(junit, /name="downtimeMs ≥ 197 ms and ≤ 206 ms \(every trial\)">\s*<failure message="trial 3 a→b: 207 &gt; 206"/);
    assert.match(junit, /<testcase classname="warplab.probe.synthetic-cut" name="downtimeMs ≤ 205 ms \(mean over trials, a→b\)"\/>/);
    const svg = readFileSync(join(dir, 'timeline-trial-1.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /rarp-seen \(orchestrator\)/);
    assert.match(svg, /inter-arrival \(ms, log scale\)/);
  });

  it("puts the papers' figures only in the labelled reference column", async () => {
    await writeReports(analyzeRun(runInput(dir), dir), dir, ['markdown']);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const lines = md.split('\n');
    const head = lines.find((l) => l.startsWith('| figure |'))!;
    const cells = (l: string) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, ''));
    assert.equal(cells(head).at(-1), 'REFERENCE: paper figure, not measured here');
    const summary = lines.slice(lines.indexOf(head) + 2).filter((l) => l.startsWith('|'));
    const downtime = summary.find((l) => l.startsWith('| downtime') && l.includes('a→b'))!;
    assert.equal(cells(downtime).at(-1), 'ICOIN 2011 (Kanada & Tarui): 790 ms (σ 260), largest gap of a 10 ms UDP stream, paper figure');
    assert.deepEqual(cells(downtime).slice(2, 8), ['3', '203.00 ms', '3.61 ms', '200.00 ms', '202.00 ms', '207.00 ms']);
    for (const l of lines.filter((x) => x.includes('790') || x.includes('σ 70'))) {
      assert.ok(summary.includes(l) && !cells(l).slice(0, -1).join('|').match(/790|σ 70/), `paper figure outside the reference column: ${l}`);
    }
    assert.match(md, /σ is the sample \(n-1\) standard deviation/);
    assert.match(md, /\| \*\*FAIL\*\* \| lost ≤ 0 \(every trial\) \|/);
  });

  it('quotes no paper figure beside a run without migrations', async () => {
    await writeReports(analyzeRun(runInput(dir, linkCutEvents), dir), dir, ['markdown']);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.doesNotMatch(md, /790|σ 70|ICOIN/);
    assert.match(md, /This run has no migration, so no figure of it is comparable with them/);
  });

  it("the steps' measurements: a table with the scenario's reference text in its own column, kept through report.json", async () => {
    const measurements: MeasurementRecord[] = [
      { trial: 1, step: 'step 2', label: '(i) not migrated', what: 'ping RTT U → vm-a (172.16.10.2)', summary: { n: 48, mean: 0.1401, sd: 0.0288, min: 0.118, median: 0.1345, max: 0.255 }, missing: '2 lost', detail: '4 routers: a → b', reference: '2.573 ms' },
      { trial: 1, step: 'step 3', label: '(i) not migrated', what: 'HTTP GET /1M U → vm-a (172.16.10.2), 1 at 10/s', summary: { n: 1, mean: 4.2, sd: null, min: 4.2, median: 4.2, max: 4.2 }, detail: '1048576 B' },
      { trial: 1, step: 'step 4', label: 'gone', what: 'ping RTT U → 10.9.9.9', summary: null, missing: '5 lost', detail: 'no route recorded', reference: 'n/a | none' },
    ];
    await writeReports(analyzeRun({ ...runInput(dir), measurements }, dir), dir, ['json', 'markdown']);
    const md = readFileSync(join(dir, 'report.md'), 'utf8').split('\n');
    const at = md.indexOf('## Measurements');
    assert.ok(at > 0, 'a Measurements section');
    const rows = md.slice(at).filter((l) => l.startsWith('|')).slice(0, 5);
    assert.deepEqual(rows, [
      '| trial | step | label | measured | median | mean ± σ | min–max | n | path / size | paper (reference) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      '| 1 | step 2 | (i) not migrated | ping RTT U → vm-a (172.16.10.2) | 0.135 ms | 0.140 ± 0.029 ms | 0.118–0.255 ms | 48 (2 lost) | 4 routers: a → b | 2.573 ms |',
      '| 1 | step 3 | (i) not migrated | HTTP GET /1M U → vm-a (172.16.10.2), 1 at 10/s | 4.200 ms | 4.200 ± — ms | 4.200–4.200 ms | 1 | 1048576 B |  |',
      '| 1 | step 4 | gone | ping RTT U → 10.9.9.9 | no sample | — | — | 0 (5 lost) | no route recorded | n/a \\| none |',
    ]);
    assert.deepEqual(loadRun(dir).input.measurements, measurements);
  });

  it('re-analyses from raw logs when present, else re-renders report.json; refuses other schemas', async () => {
    await writeReports(analyzeRun(runInput(dir), dir), dir, ['json']);
    const recorded = loadRun(dir);
    const again = reloadRun(dir);
    assert.equal(again.reanalyzed, true);
    assert.deepEqual(again.run.trials, recorded.trials);
    // a v1 report is re-analysed from its raw logs, never rendered as it is
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...recorded, schemaVersion: 1 }));
    assert.deepEqual([reloadRun(dir).reanalyzed, reloadRun(dir).run.schemaVersion], [true, 2]);
    rmSync(join(dir, 'raw'), { recursive: true });
    assert.throws(() => reloadRun(dir), /v1, this warplab reads warplab.probe-report v2; re-analysing it needs the raw logs it names/);
    writeFileSync(join(dir, 'report.json'), JSON.stringify(recorded));
    const kept = reloadRun(dir);
    assert.deepEqual([kept.reanalyzed, kept.run.statistics], [false, recorded.statistics]);
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...recorded, schemaVersion: 99 }));
    assert.throws(() => loadRun(dir), (e) => e instanceof ReportError && /schema warplab.probe-report v99, this warplab reads warplab.probe-report v2/.test(e.message));
    await assert.rejects(writeReports(recorded, dir, ['pdf']), /unknown report format pdf; known: json, markdown, junit, svg/);
  });

  it('`warplab report RUN-DIR --json` re-renders and prints a summary', async () => {
    await writeReports(analyzeRun(runInput(dir), dir), dir, ['json']);
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => printed.push(s)) as unknown as typeof process.stdout.write;
    try {
      await reportCommand().exitOverride().parseAsync([dir, '--json', '--format', 'json,junit'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    const out = JSON.parse(printed.join(''));
    assert.equal(out.reanalyzed, true);
    assert.deepEqual(out.files.map((f: string) => f.slice(dir.length + 1)), ['report.json', 'junit.xml']);
    assert.deepEqual(out.thresholds.map((t: { passed: boolean }) => t.passed), [false, true, false]);
    assert.equal(reporters.size, 4);
  });
});
