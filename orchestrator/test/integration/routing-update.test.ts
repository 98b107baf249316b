// Routing update end to end on the two-DC topology: real QEMU, BIRD eBGP on every router, the
// watcher's and warplab's triggers, the UDP probe on both directions, and nothing left after `down`.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { up, type StartedLab } from '../../lab/lab.js';
import { migrateWorkload, type MigrationResult } from '../../migration/migrate.js';
import { getStrategy } from '../../migration/strategy.js';
import { packageRoot } from '../../paths.js';
import { singleHostClock } from '../../probe/clock.js';
import { EventLog } from '../../probe/timeline.js';
import { analyzeRun, streamInput } from '../../report/run.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { startWorkloadStreams } from '../../workload/streams.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireSubstrate, requireWorkloads, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const twoDc = join(packageRoot, 'topologies', 'routing-update-two-dc.yaml');
const VM = '172.16.10.2';

/** Each router's kernel route to the VM, `node: via`. */
async function kernelRoutes(lab: StartedLab): Promise<string[]> {
  const rules = await getStrategy('routing-update').rules!(lab);
  return rules.map((r) => `${r.node}: ${r.tables.find((t) => t.title === 'kernel routes')!.rows.map((x) => x[1]).join(', ') || 'none'}`);
}

/** BIRD processes running on a config in this lab directory. */
function birds(labPath: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(labPath, 'bird')) ? [Number(p)] : [];
    } catch {
      return [];
    }
  });
}

const converged = (m: MigrationResult) => m.switching.changes.filter((c) => c.action === 'fib').map((c) => `${c.node} +${(c.atMs - m.switching.announce!.atMs).toFixed(1)} ms`);

for (const substrate of testSubstrates()) describe(`@root routing update (BIRD eBGP) on ${substrate}`, function () {
  this.timeout(300_000);
  let stateDir: string;
  let runDir: string;
  let t: Topology;
  before(async function () {
    await requireSubstrate(this, substrate);
    t = await loadTopologyFile(twoDc);
    const missing = await getStrategy('routing-update').extension!.missing(t);
    if (missing.length) {
      console.log(`      (skipped: ${missing.join('; ')})`);
      this.skip();
    }
    await requireWorkloads(this, t);
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    runDir = tempStateDir();
  });
  afterEach(async function () {
    await cleanStateDir(stateDir);
    keepRunDirIfFailed(this, runDir);
  });

  it('vm-a moves PDC → ADC (watcher) → PDC (warplab): the /32 follows on every router, static routes stay, U reaches it, both streams resume, down leaves nothing', async function () {
    const events = new EventLog();
    const name = testTopology(t).name;
    let labPath: string;
    {
      await using lab = await up(testTopology(t), { stateDir, substrate });
      labPath = lab.path;
      assert.equal(birds(labPath).length, 4, 'one BIRD per router');
      assert.deepEqual(await kernelRoutes(lab), ['R1: none', 'R2: via 10.255.2.2 dev eth0', 'core: via 10.255.1.1 dev eth0', 'R3: via 10.255.3.2 dev eth0']);
      const statics = async () => (await lab.shell('core').exec(['ip', 'route', 'show', 'proto', 'static'])).stdout;
      const before = await statics();
      const streams = await startWorkloadStreams(lab, t.workloads[0]!, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
      await sleep(500);

      const there = await migrateWorkload(lab, 'vm-a', 'adc-hv', { events });
      assert.equal(there.switching.by, 'watcher');
      assert.ok(there.switching.switchingMs !== null && there.switching.switchingMs < 1000, `switching ${there.switching.switchingMs} ms`);
      assert.deepEqual(await kernelRoutes(lab), ['R1: via 10.255.1.2 dev eth0', 'R2: none', 'core: via 10.255.2.1 dev eth1', 'R3: via 10.255.3.2 dev eth0']);
      // R3 keeps its next hop, but may see the /32 go and come back when core hears R1's withdrawal before R2's announcement.
      const changed = converged(there).map((c) => c.split(' ')[0]);
      assert.ok(['R1', 'R2', 'core'].every((n) => changed.includes(n)), `FIB changes: ${converged(there).join(', ')}`);
      assert.equal(await statics(), before, 'BIRD left the topology\'s static routes alone');
      assert.equal((await lab.shell('U').exec(['ping', '-n', '-c2', '-i0.2', '-W1', VM], { check: false })).exitCode, 0, 'U reaches the VM at ADC');
      await sleep(500);

      const back = await migrateWorkload(lab, 'vm-a', 'pdc-hv', { events, settings: { trigger: 'orchestrator' } });
      assert.equal(back.switching.by, 'orchestrator');
      assert.deepEqual(await kernelRoutes(lab), ['R1: none', 'R2: via 10.255.2.2 dev eth0', 'core: via 10.255.1.1 dev eth0', 'R3: via 10.255.3.2 dev eth0']);
      assert.equal(await statics(), before);
      assert.equal((await lab.shell('U').exec(['ping', '-n', '-c2', '-i0.2', '-W1', VM], { check: false })).exitCode, 0, 'U reaches the VM at PDC');
      console.log(`      ${substrate}: PDC → ADC switching ${there.switching.switchingMs?.toFixed(1)} ms, FIBs ${converged(there).join(', ')}; back (warplab's trigger) FIBs ${converged(back).join(', ')}`);
      await sleep(800);

      const captures = await Promise.all(streams.map((s) => s.stop()));
      const run = analyzeRun({ name: 'ru', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'ru', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] }, runDir);
      for (const s of run.trials[0]!.streams) {
        assert.equal(s.analysis.didNotResume, 0, `${s.label} did not resume`);
        for (const w of s.analysis.windows) {
          assert.ok(w.downtimeMs !== null && w.downtimeMs < 3000, `${s.label} ${w.window}: downtime ${w.downtimeMs} ms`);
          console.log(`      ${s.label} ${w.window}: downtime ${w.downtimeMs?.toFixed(1)} ms`);
        }
      }
    }
    assert.deepEqual(labNamespaces(name), [], 'namespaces left');
    assert.deepEqual(labProcesses(name), [], 'QEMU, BIRD, listeners, monitors, watcher or probe processes left');
    assert.deepEqual(birds(labPath), [], 'BIRD left');
  });
});
