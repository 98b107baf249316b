// The strategy comparison end to end: the four strategies' labs up at once, the same VM moved
// there and back with each, interleaved, and one table in which every figure was measured;
// then the scaling axis, with placeholders moved by the strategies.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPARISON_TOPOLOGIES, compareStrategies, writeComparison } from '../../bench/strategy-comparison.js';
import { scaleStrategies } from '../../bench/strategy-scaling.js';
import { scalingTable } from '../../bench/strategy-table.js';
import { STATE_KINDS, type KernelState } from '../../lab/kernel-state.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile } from '../../topology/load.js';
import { removeDir, requireRoot, requireWorkloads, tempStateDir, testName } from '../helpers.js';

const strategies = Object.keys(COMPARISON_TOPOLOGIES);

describe('@root strategy comparison (bench:strategies, two moves each)', function () {
  this.timeout(900_000);
  let out: string;
  before(async function () {
    requireRoot(this);
    for (const f of Object.values(COMPARISON_TOPOLOGIES)) await requireWorkloads(this, await loadTopologyFile(join(packageRoot, 'topologies', f)));
    out = tempStateDir();
  });
  after(() => out && removeDir(out));

  it('every strategy moves the VM away and back with both streams resuming, and the table holds what was measured', async () => {
    const comparison = await compareStrategies({ repeat: 2, intervals: [10], strategies, rename: testName });
    const md = await writeComparison(comparison, 2, out);
    const { rows } = comparison;
    console.log(md.replace(/^/gm, '      '));
    assert.deepEqual(rows.map((r) => r.strategy), strategies);
    for (const r of rows) {
      const what = `${r.strategy}: `;
      assert.equal(r.samples.length, 2, what + 'two moves');
      for (const s of r.samples) {
        assert.ok(s.own?.resumed && s.echo?.resumed, what + 'both streams resumed after every move');
        assert.equal(typeof s.result.switching.switchingMs, 'number', what + 'switching measured');
      }
      const { home, away, overhead } = r.extras;
      assert.ok(home && away && overhead, what + 'path, state and wire measured');
      assert.ok(home.rttMs! > 0 && away.rttMs! > 0, what + 'RTTs measured both places');
      assert.ok(Object.values(away.vm).some((n) => n > 0), what + `the routers' kernels hold an entry naming the VM away: ${JSON.stringify(away.vm)}`);
      assert.ok(overhead.tunnelled + overhead.plain > 0, what + `the VM's frames seen on ${overhead.node}:${overhead.iface}`);
      // Only the overlay tunnels; its header is VXLAN's 50 bytes, as captured.
      if (r.strategy === 'l2-overlay') assert.equal(overhead.overheadBytes, 50, what + 'VXLAN header on the wire');
      else assert.equal(overhead.tunnelled, 0, what + 'nothing tunnelled');
    }
    const table = readFileSync(join(out, 'strategies.md'), 'utf8');
    for (const s of strategies) assert.match(table, new RegExp(`^\\| ${s} \\| vm, 10 ms \\| 2 of 2 \\|`, 'm'));
    assert.match(readFileSync(join(out, 'strategies.svg'), 'utf8'), /^<svg/);
    assert.equal(JSON.parse(readFileSync(join(out, 'strategies.json'), 'utf8')).rows.length, strategies.length);
  });
});

describe('@root strategy scaling (1 and 10 moved workloads: the VM and placeholders)', function () {
  this.timeout(900_000);
  before(async function () {
    requireRoot(this);
    for (const f of Object.values(COMPARISON_TOPOLOGIES)) await requireWorkloads(this, await loadTopologyFile(join(packageRoot, 'topologies', f)));
  });

  it('every strategy holds more state for ten moved workloads than for one, counted from the kernels, and the VM still moves', async () => {
    const rows = await scaleStrategies({ counts: [1, 10], strategies, rename: testName });
    console.log(scalingTable(rows).replace(/^/gm, '      '));
    const total = (k?: KernelState) => STATE_KINDS.reduce((n, x) => n + (k?.[x] ?? 0), 0);
    for (const s of strategies) {
      const [one, ten] = [1, 10].map((n) => rows.find((r) => r.strategy === s && r.moved === n)!);
      assert.equal(one!.placeMs.length, 0);
      assert.equal(ten!.placeMs.length, 9, `${s}: nine placeholders placed`);
      assert.ok(total(ten!.perWorkload) > 0, `${s}: the routers name the moved workloads: ${JSON.stringify(ten!.perWorkload)}`);
      assert.ok(total(ten!.all) > total(one!.all), `${s}: more state for ten than for one (${JSON.stringify(one!.all)} → ${JSON.stringify(ten!.all)})`);
      for (const r of [one!, ten!]) for (const x of r.samples) assert.ok(x.own?.resumed && x.echo?.resumed, `${s}, ${r.moved} moved: the VM's streams resumed`);
    }
  });
});
