// Live migration end to end on the ICOIN topology: real QEMU (TCG here), real translators,
// the watcher, and the UDP probe measuring both directions on the client.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { up } from '../../lab/lab.js';
import { driverFor } from '../../migration/driver.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { singleHostClock } from '../../probe/clock.js';
import { EventLog } from '../../probe/timeline.js';
import { analyzeRun, streamInput } from '../../report/run.js';
import { packageRoot } from '../../paths.js';
import { translatorStatus } from '../../translator/control.js';
import { loadTopologyFile } from '../../topology/load.js';
import { startWorkloadStreams } from '../../workload/streams.js';
import { labNamespaces, labProcesses, removeDir, requireRoot, tempStateDir } from '../helpers.js';

const icoin = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');

describe('@root VM live migration with network paging (ICOIN 2011)', function () {
  this.timeout(300_000);
  let stateDir: string;
  let runDir: string;
  before(async function () {
    requireRoot(this);
    const missing = await driverFor('vm').missing();
    if (missing.length) {
      console.log(`      (skipped: ${missing.join('; ')})`);
      this.skip();
    }
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    runDir = tempStateDir();
  });
  afterEach(function () {
    removeDir(stateDir);
    if (this.currentTest?.state === 'failed') console.log(`      run directory kept: ${runDir}`);
    else removeDir(runDir);
  });

  it('moves vm-a PDC → ADC → PDC: both streams go on, the VM keeps its address, the report has downtime, switching and QEMU figures', async () => {
    const t = { ...(await loadTopologyFile(icoin)), name: 'icoin-mig' };
    const events = new EventLog();
    {
      await using lab = await up(t, { stateDir });
      const w = t.workloads[0]!;
      const streams = await startWorkloadStreams(lab, w, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
      await sleep(600);
      const there = await migrateWorkload(lab, 'vm-a', 'adc-hv', { events });
      await sleep(800);
      const back = await migrateWorkload(lab, 'vm-a', 'pdc-hv', { events });
      await sleep(800);
      const captures = await Promise.all(streams.map((s) => s.stop()));

      for (const r of [there, back]) {
        assert.equal(r.switching.by, 'watcher', 'the watcher switched R3 on the RARP');
        assert.equal(r.switching.announce?.kind, 'rarp');
        assert.ok(['tcg', 'kvm'].includes(String(r.figures.accel)));
        for (const k of ['downtimeMs', 'totalTimeMs', 'transferredBytes']) assert.ok(Number(r.figures[k]) > 0, `${k}: ${r.figures[k]}`);
        assert.ok(r.switching.announceToSwitchedMs! >= 0 && r.switching.announceToSwitchedMs! < 1000, `announce → switched ${r.switching.announceToSwitchedMs} ms`);
      }
      assert.deepEqual(there.switching.switches.map((s) => [s.router, s.line]), [['R3', 'switch 172.16.10.2/32 pass']]);
      assert.deepEqual(back.switching.switches.map((s) => [s.router, s.line]), [['R3', 'switch 172.16.10.2/32 wan 172.15.10.2/32 contiguous']]);
      assert.equal(lab.workload('vm-a')?.on, 'pdc-hv');
      const rules = (await translatorStatus(lab, 'R3')).rules;
      assert.ok(rules.includes('page 172.16.10.2/32 wan 172.15.10.2/32 contiguous'), rules.join('\n'));

      const run = analyzeRun(
        { name: 'icoin-vm', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'PDC→ADC→PDC', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] },
        runDir,
      );
      const trial = run.trials[0]!;
      assert.equal(trial.windows.filter((x) => x.kind === 'migration').length, 2);
      const lastSwitch = Math.max(...events.events.filter((e) => e.kind === 'translator-switched').map((e) => e.atMs));
      for (const s of trial.streams) {
        const a = s.analysis;
        // Continues: packets keep arriving well after the last switch, through the VM's one address.
        assert.ok(a.lastMs! > lastSwitch + 500, `${s.label}: last arrival ${a.lastMs! - lastSwitch} ms after the last switch`);
        for (const win of a.windows) {
          assert.ok(win.downtimeMs !== null && win.downtimeMs < 2000, `${s.label} ${win.window}: downtime ${win.downtimeMs} ms`);
        }
        assert.ok(a.lossRatio < 0.2, `${s.label}: loss ${a.lossRatio}`);
      }
    }
    assert.deepEqual(labNamespaces('icoin-mig'), [], 'namespaces left');
    assert.deepEqual(labProcesses('icoin-mig'), [], 'QEMU, watcher or probe processes left');
  });
});
