// A workload's Shell on the ICOIN topology: commands in the VM (over its control channel) and
// in the container (nsenter), traffic that the workload itself starts, before and after a
// live migration; the scenario steps and `warplab exec` on a workload.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { up } from '../../lab/lab.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { packageRoot } from '../../paths.js';
import { EventLog } from '../../probe/timeline.js';
import { execStep } from '../../scenario/steps/exec.js';
import { reachStep } from '../../scenario/steps/reach.js';
import type { StepContext } from '../../scenario/step.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { WorkloadKind } from '../../topology/model.js';
import { cleanStateDir, labNamespaces, labProcesses, requireSubstrate, requireWorkloads, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const icoin = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');
const U = '10.3.0.10';

for (const substrate of testSubstrates()) describe(`@root a workload's Shell (ICOIN 2011) on ${substrate}`, function () {
  this.timeout(300_000);
  let stateDir: string;
  before(async function () {
    await requireSubstrate(this, substrate);
  });
  beforeEach(() => {
    stateDir = tempStateDir();
  });
  afterEach(async () => {
    await cleanStateDir(stateDir);
  });

  /** The ICOIN topology with its workload as this kind (the file declares the paper's VM). */
  const icoinWith = async (kind: WorkloadKind) => {
    const t = await loadTopologyFile(icoin);
    return testTopology({ ...t, name: 'icoin-wsh', workloads: t.workloads.map((w) => ({ ...w, kind })) });
  };

  for (const kind of ['vm', 'container'] as const) {
    it(`a ${kind}: ip -4 addr, ping U from inside, migrate to adc-hv, ping U again; stderr and exit status come back`, async function () {
      const t = await icoinWith(kind);
      await requireWorkloads(this, t);
      {
        await using lab = await up(t, { stateDir, substrate });
        const sh = lab.workloadShell('vm-a');
        assert.equal(sh.where, `${kind} vm-a on pdc-hv`);
        assert.match((await sh.exec(['ip', '-4', 'addr'], { timeoutMs: 20_000 })).stdout, /inet 172\.16\.10\.2\/16 /);
        // The workload starts the traffic: through R1's S → S' translation to U and back.
        const before = await sh.exec(['ping', '-c', '3', '-W', '2', U], { timeoutMs: 20_000 });
        assert.match(before.stdout, /3 packets transmitted, 3 packets received/);

        await migrateWorkload(lab, 'vm-a', 'adc-hv');
        assert.equal(sh.where, `${kind} vm-a on adc-hv`);
        const after = await sh.exec(['ping', '-c', '3', '-W', '2', U], { timeoutMs: 20_000 });
        assert.match(after.stdout, /3 packets transmitted, 3 packets received/);

        const r = await sh.exec(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in', check: false, timeoutMs: 20_000 });
        assert.deepEqual([r.exitCode, r.stdout, r.stderr], [3, 'in', 'err\n']);
        const timedOut = await sh.exec(['sleep', '30'], { timeoutMs: 500, check: false });
        assert.equal(timedOut.exitCode, -1, `${timedOut.exitCode} ${timedOut.stderr}`);

        // The scenario steps, as a scenario runs them (`from`/`node` name the workload).
        const ctx: StepContext = { lab, monitored: new Set(), cache: new Map(), events: new EventLog(), progress: () => {} };
        assert.equal(await reachStep.run({ from: 'vm-a', to: 'U', expect: true }, ctx), undefined);
        assert.equal(await execStep.run({ node: 'vm-a', command: 'ip -4 route | grep -q "default via 172.16.0.1"', expectExit: 0, timeoutMs: 20_000 }, ctx), undefined);

        const cli = spawnSync(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), 'exec', lab.name, 'vm-a', '--', 'sh', '-c', 'ip -4 addr show dev eth0; exit 7'], {
          encoding: 'utf8',
          env: { ...process.env, WARPLAB_STATE_DIR: stateDir },
          timeout: 60_000,
        });
        assert.equal(cli.status, 7, cli.stderr);
        assert.match(cli.stdout, /inet 172\.16\.10\.2\/16 /);
      }
      assert.deepEqual(labNamespaces(t.name), [], 'namespaces left');
      assert.deepEqual(labProcesses(t.name), [], 'QEMU, dockerd, watcher or exec processes left');
    });
  }
});
