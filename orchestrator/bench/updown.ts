// Benchmark: `up`/`down` time of the shipped topologies and of router chains, warplab's
// netns substrate beside plain Mininet (sandboxed), in one run. Prints a table.
//   sudo npm run bench:updown [-- --repeat 3 --chains 10,50,100,200]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up } from '../lab/lab.js';
import { packageRoot } from '../paths.js';
import { loadTopologyFile, parseTopology } from '../topology/load.js';
import type { Topology } from '../topology/model.js';
import { chainTopologyYaml } from './chain.js';
import { plainMininetChains } from './mininet-chain.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const repeat = Number(arg('repeat', '3'));
const chains = arg('chains', '10,50,100,200').split(',').map(Number);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeNetns(t: Topology, stateDir: string): Promise<{ up: number; down: number }> {
  const ups: number[] = [];
  const downs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    let t0 = performance.now();
    const lab = await up(t, { stateDir });
    ups.push(performance.now() - t0);
    t0 = performance.now();
    await lab.down();
    downs.push(performance.now() - t0);
  }
  return { up: median(ups), down: median(downs) };
}

const stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
try {
  console.log(`warplab up/down benchmark: median of ${repeat} runs, milliseconds (netns substrate; Mininet in a private sandbox)\n`);
  const rows: string[][] = [];
  const topoDir = join(packageRoot, 'topologies');
  for (const f of readdirSync(topoDir).filter((x) => x.endsWith('.yaml')).sort()) {
    const t = await loadTopologyFile(join(topoDir, f));
    const r = await timeNetns(t, stateDir);
    rows.push([f, String(t.nodes.length), r.up.toFixed(0), r.down.toFixed(0), '', '', '']);
  }
  for (const n of chains) {
    const t = parseTopology(chainTopologyYaml(n, `bench${n}`));
    const r = await timeNetns(t, stateDir);
    const mnRuns = [];
    for (let i = 0; i < repeat; i++) mnRuns.push((await plainMininetChains([n]))[0]!);
    const mnUp = median(mnRuns.map((m) => m.upMs));
    const mnDown = median(mnRuns.map((m) => m.downMs));
    rows.push([`chain of ${n} routers`, String(t.nodes.length), r.up.toFixed(0), r.down.toFixed(0), mnUp.toFixed(0), mnDown.toFixed(0), `${(mnUp / r.up).toFixed(1)}× / ${(mnDown / r.down).toFixed(1)}×`]);
  }
  const head = ['topology', 'nodes', 'warplab up', 'warplab down', 'mininet up', 'mininet down', 'mininet/warplab (up / down)'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(w[i]!)).join('  '));
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
