// Benchmark: how closely the 1 ms probe places a link cut. A lab a — r — l — b, streams
// a→b and b→a, and l's port towards b down for --cut-ms in each trial
// (orchestrator/bench/link-cut.ts). Per stream, against the cut as `ip monitor` stamped it:
// gap − cut, the down edge (link down − last packet before) and the up edge (first packet
// after − link up), beside the stream's noise floor, which bounds how far they can stray
// on this machine at this time. Prints Markdown.
//   sudo npm run bench:probe [-- --trials 20 --cut-ms 200]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up } from '../lab/lab.js';
import { singleHostClock } from '../probe/clock.js';
import { summarize } from '../probe/stats.js';
import { analyzeRun, type TrialInput } from '../report/run.js';
import { parseTopology } from '../topology/load.js';
import { cutEdges, cutTrial, linkCutTopology, prepareCut } from './link-cut.js';
import { benchArgs } from './args.js';

const args = benchArgs({ trials: '20', 'cut-ms': '200' });
const trialCount = Number(args.trials);
const cutMs = Number(args['cut-ms']);

const stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
const runDir = join(stateDir, 'run');
mkdirSync(join(runDir, 'raw'), { recursive: true });
try {
  const trials: TrialInput[] = [];
  {
    await using lab = await up(parseTopology(linkCutTopology('probe-bench')), { stateDir });
    const port = await prepareCut(lab);
    for (let i = 1; i <= trialCount; i++) {
      trials.push(await cutTrial(lab, port, cutMs, `trial ${i}`, runDir));
      process.stderr.write(`\rtrial ${i}/${trialCount}`);
    }
    process.stderr.write('\n');
  }
  const run = analyzeRun({ name: 'probe-bench', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials }, runDir);
  const rows = cutEdges(run);
  const f = (x: number) => x.toFixed(2);
  const spread = (xs: number[]) => {
    const s = summarize(xs)!;
    return `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;
  };
  console.log(`Link cut of ${cutMs} ms, 1 ms probe, ${trialCount} trials; min / median / max, ms.\n`);
  console.log('| stream | cut (ip monitor) | gap − cut | down edge | up edge | noise floor |');
  console.log('|---|---|---|---|---|---|');
  for (const stream of [...new Set(rows.map((r) => r.stream))]) {
    const mine = rows.filter((r) => r.stream === stream);
    const col = (get: (r: (typeof rows)[number]) => number) => spread(mine.map(get));
    console.log(`| ${stream} | ${col((r) => r.cutMs)} | ${col((r) => r.gapMs - r.cutMs)} | ${col((r) => r.downEdgeMs)} | ${col((r) => r.upEdgeMs)} | ${col((r) => r.noiseFloorMs)} |`);
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
