// Service switching end to end on the Bifulco topology: real QEMU, stateless nftables on the
// switches, proxy and gratuitous ARP, the watcher, the UDP probe on both directions.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MigrationError } from '../../errors.js';
import { up, type StartedLab } from '../../lab/lab.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { getStrategy } from '../../migration/strategy.js';
import { packageRoot } from '../../paths.js';
import { singleHostClock } from '../../probe/clock.js';
import { EventLog } from '../../probe/timeline.js';
import { analyzeRun, streamInput } from '../../report/run.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { startWorkloadStreams } from '../../workload/streams.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireSubstrate, requireWorkloads, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const bifulco = join(packageRoot, 'topologies', 'bifulco2011-service-switching.yaml');

/** Every switch's NAT entries, `node: from → to (where)`. */
async function natRules(lab: StartedLab): Promise<string[]> {
  const rules = await getStrategy('service-switching').rules!(lab);
  return rules.flatMap((r) => r.tables.find((t) => t.title === 'stateless NAT')!.rows.map(([a, b, where]) => `${r.node}: ${a} → ${b} (${where})`)).sort();
}

/** Who reaches `addr` by ping now, of `from`. */
async function reaching(lab: StartedLab, from: string[], addr: string): Promise<string[]> {
  const r = await Promise.all(from.map(async (n) => ((await lab.shell(n).exec(['ping', '-n', '-c2', '-i0.2', '-W1', addr], { check: false })).exitCode === 0 ? n : `${n} NOT`)));
  return r;
}

for (const substrate of testSubstrates()) describe(`@root service switching (Bifulco et al. 2011) on ${substrate}`, function () {
  this.timeout(300_000);
  let stateDir: string;
  let runDir: string;
  let t: Topology;
  before(async function () {
    await requireSubstrate(this, substrate);
    t = await loadTopologyFile(bifulco);
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
  const start = (topo: Topology) => up(testTopology(topo), { stateDir, substrate });

  it('C moves home → foreign → home beside D* and D**: E, D and B reach every VM after each move, C keeps its address, both streams resume', async function () {
    const events = new EventLog();
    const name = testTopology({ ...t, name: 'bif-ss' }).name;
    {
      await using lab = await start({ ...t, name: 'bif-ss' });
      const streams = await startWorkloadStreams(lab, t.workloads.find((w) => w.name === 'vm')!, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
      await sleep(500);
      await migrateWorkload(lab, 'dstar', 'hv-b', { events });
      await migrateWorkload(lab, 'dss', 'hv-a', { events });
      const there = await migrateWorkload(lab, 'vm', 'hv-b', { events });
      assert.equal(there.switching.by, 'watcher');
      assert.equal(there.switching.announce?.kind, 'rarp');
      assert.ok(there.switching.switchingMs !== null && there.switching.switchingMs < 1000, `switching ${there.switching.switchingMs} ms`);
      assert.deepEqual((await natRules(lab)).filter((r) => r.includes('192.168.11.3')), [
        'R1: 192.168.10.3 → 192.168.11.3 (src, every egress)',
        'R1: 192.168.11.3 → 192.168.10.3 (dst, every ingress)',
        'R2: 192.168.10.3 → 192.168.11.3 (dst, every ingress)',
        'R2: 192.168.11.3 → 192.168.10.3 (src, toward the core)',
        'R3: 192.168.10.3 → 192.168.11.3 (src, every egress)',
        'R3: 192.168.11.3 → 192.168.10.3 (dst, every ingress)',
      ]);
      for (const addr of ['192.168.11.3', '192.168.11.5', '192.168.10.5']) assert.deepEqual(await reaching(lab, ['E', 'D', 'B'], addr), ['E', 'D', 'B'], addr);
      await sleep(500);
      const back = await migrateWorkload(lab, 'vm', 'hv-a', { events, settings: { trigger: 'orchestrator' } });
      assert.equal(back.switching.by, 'orchestrator');
      assert.deepEqual((await natRules(lab)).filter((r) => r.includes('192.168.11.3')), [], 'C is home: no rule for it');
      assert.deepEqual(await reaching(lab, ['E', 'D', 'B'], '192.168.11.3'), ['E', 'D', 'B']);
      await sleep(800);
      const captures = await Promise.all(streams.map((s) => s.stop()));
      const run = analyzeRun({ name: 'ss', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'ss', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] }, runDir);
      for (const s of run.trials[0]!.streams) {
        assert.equal(s.analysis.didNotResume, 0, `${s.label} did not resume`);
        for (const w of s.analysis.windows) assert.ok(w.downtimeMs !== null && w.downtimeMs < 3000, `${s.label} ${w.window}: downtime ${w.downtimeMs} ms`);
      }
    }
    assert.deepEqual(labNamespaces(name), [], 'namespaces left');
    assert.deepEqual(labProcesses(name), [], 'QEMU, listeners, watcher or probe processes left');
  });

  it('the destination QEMU dies mid-migration: the VM runs on at home, no switch has a rule for it, E still reaches it', async function () {
    // Slow enough (≈ 4 s for the guest's RAM) that the kill lands mid-transfer.
    await using lab = await start({ ...t, name: 'bif-fault', workloads: t.workloads.map((w) => ({ ...w, vm: { ...w.vm, maxBandwidthMbps: 20 } })) });
    const source = lab.workload('vm')!.pid;
    let injected = false;
    const err = await migrateWorkload(lab, 'vm', 'hv-b', {
      onProgress: (p) => {
        if (p.phase !== 'migrate' || injected) return;
        injected = true;
        const dest = [...lab.snapshot.processes].reverse().find((x) => x.argv.includes('-incoming'))!.pid;
        process.kill(dest, 'SIGKILL');
      },
    }).then(
      () => assert.fail('the migration should have failed'),
      (e: unknown) => e,
    );
    assert.ok(injected && err instanceof MigrationError, String(err));
    assert.match((err as Error).message, /vm still runs on hv-a/);
    assert.equal(lab.workload('vm')?.on, 'hv-a');
    assert.doesNotThrow(() => process.kill(source, 0), 'the source QEMU runs');
    assert.deepEqual(await natRules(lab), [], 'the rules are as they were');
    assert.deepEqual(await reaching(lab, ['E', 'D'], '192.168.11.3'), ['E', 'D']);
  });
});
