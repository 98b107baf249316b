// Live migration end to end on the ICOIN topology: real QEMU (TCG here), real translators,
// the watcher, and the UDP probe measuring both directions on the client.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { attach, down, up, type StartedLab } from '../../lab/lab.js';
import { MigrationError } from '../../errors.js';
import { engineDir } from '../../migration/criu/driver.js';
import { attachEngine } from '../../workload/docker/index.js';
import type { WorkloadKind } from '../../topology/model.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { singleHostClock } from '../../probe/clock.js';
import { EventLog } from '../../probe/timeline.js';
import { analyzeRun, streamInput } from '../../report/run.js';
import { packageRoot } from '../../paths.js';
import { translatorStatus } from '../../translator/control.js';
import { loadTopologyFile } from '../../topology/load.js';
import { startWorkloadStreams } from '../../workload/streams.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireSubstrate, requireWorkloads, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const icoin = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');

for (const substrate of testSubstrates()) describe(`@root live migration with network paging (ICOIN 2011) on ${substrate}`, function () {
  this.timeout(300_000);
  let stateDir: string;
  let runDir: string;
  before(async function () {
    await requireSubstrate(this, substrate);
  });
  /** Every lab of this suite: its test name (WARPLAB_TEST_TAG) on this substrate. */
  const start = <T extends Parameters<typeof up>[0]>(t: T) => up(testTopology(t), { stateDir, substrate });
  /** containerd's per-checkpoint image folders in the system's temp folder (none may be ours). */
  const checkpointTmp = () => readdirSync(tmpdir()).filter((f) => f.startsWith('ctrd-checkpoint'));
  /** Skips a test, saying why, where this machine cannot run the driver. */
  const needs = async (ctx: Mocha.Context, kind: WorkloadKind) => requireWorkloads(ctx, await icoinWith(kind, 'icoin-needs'));
  beforeEach(() => {
    stateDir = tempStateDir();
    runDir = tempStateDir();
  });
  afterEach(async function () {
    await cleanStateDir(stateDir);
    keepRunDirIfFailed(this, runDir);
  });

  const kinds = [
    { kind: 'vm', announce: 'rarp', figures: ['downtimeMs', 'totalTimeMs', 'transferredBytes'] },
    { kind: 'container', announce: 'garp', figures: ['checkpointMs', 'restoreMs', 'stopToResumeMs'] },
  ] as const;
  /** The ICOIN topology with its workload as this kind (the file declares the paper's VM). */
  const icoinWith = async (kind: WorkloadKind, name: string) => {
    const t = await loadTopologyFile(icoin);
    return { ...t, name, workloads: t.workloads.map((w) => ({ ...w, kind })) };
  };

  for (const k of kinds) {
    it(`moves a ${k.kind} PDC → ADC → PDC: both streams go on, it keeps its address, the report has downtime, switching and the driver's figures`, async function () {
      await needs(this, k.kind);
      const t = await icoinWith(k.kind, 'icoin-mig');
      const events = new EventLog();
      const tmpBefore = checkpointTmp();
      {
        await using lab = await start(t);
        const w = t.workloads[0]!;
        const streams = await startWorkloadStreams(lab, w, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
        await sleep(600);
        const there = await migrateWorkload(lab, 'vm-a', 'adc-hv', { events });
        await sleep(800);
        const back = await migrateWorkload(lab, 'vm-a', 'pdc-hv', { events });
        await sleep(800);
        const captures = await Promise.all(streams.map((s) => s.stop()));

        for (const r of [there, back]) {
          assert.equal(r.switching.by, 'watcher', 'the watcher switched R3 on the announcement');
          assert.equal(r.switching.announce?.kind, k.announce);
          for (const f of k.figures) assert.ok(Number(r.figures[f]) > 0, `${f}: ${r.figures[f]}`);
          assert.ok(r.switching.announceToSwitchedMs! >= 0 && r.switching.announceToSwitchedMs! < 1000, `announce → switched ${r.switching.announceToSwitchedMs} ms`);
          // U's 1 ms echo stream is the traffic whose first packet shows the new path.
          assert.ok(r.switching.switchingMs !== null && r.switching.switchingMs >= 0 && r.switching.switchingMs < 500, `switching time ${r.switching.switchingMs} ms`);
        }
        if (k.kind === 'vm') assert.ok(['tcg', 'kvm'].includes(String(there.figures.accel)));
        assert.deepEqual(there.switching.changes.map((c) => [c.node, c.detail]), [['R3', 'switch 172.16.10.2/32 pass']]);
        assert.deepEqual(back.switching.changes.map((c) => [c.node, c.detail]), [['R3', 'switch 172.16.10.2/32 wan 172.15.10.2/32 contiguous']]);
        assert.equal(lab.workload('vm-a')?.on, 'pdc-hv');
        const rules = (await translatorStatus(lab, 'R3')).rules;
        assert.ok(rules.includes('page 172.16.10.2/32 wan 172.15.10.2/32 contiguous'), rules.join('\n'));

        const run = analyzeRun(
          { name: `icoin-${k.kind}`, createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'PDC→ADC→PDC', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] },
          runDir,
        );
        const trial = run.trials[0]!;
        assert.equal(trial.windows.filter((x) => x.kind === 'migration').length, 2);
        assert.ok(trial.windows.every((x) => x.switchingMs !== null), 'the report has the switching time of both moves');
        const lastSwitch = Math.max(...events.events.filter((e) => e.kind === 'translator-switched').map((e) => e.atMs));
        for (const s of trial.streams) {
          const a = s.analysis;
          // Continues: packets keep arriving well after the last switch, through the one address.
          assert.ok(a.lastMs! > lastSwitch + 500, `${s.label}: last arrival ${a.lastMs! - lastSwitch} ms after the last switch`);
          for (const win of a.windows) assert.ok(win.downtimeMs !== null && win.downtimeMs < 2000, `${s.label} ${win.window}: downtime ${win.downtimeMs} ms`);
          // Came back after both moves (a loss ratio would only restate how long the gaps were
          // against how long the stream ran, which load changes).
          assert.equal(a.didNotResume, 0, `${s.label}: did not resume after ${a.didNotResume} move(s)`);
        }
      }
      assert.deepEqual(labNamespaces(testTopology(t).name), [], 'namespaces left');
      assert.deepEqual(labProcesses(testTopology(t).name), [], 'QEMU, dockerd, watcher, probe or sandbox processes left');
      assert.deepEqual(checkpointTmp(), tmpBefore, "containerd's checkpoint images left in the system's temp folder");
    });
  }

  it('three data centers (§V-E): vm-a tours hv1 → hv2 → hv3 → hv1 and R3 follows with each DC\'s image', async function () {
    await needs(this, 'vm');
    const t = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-three-dc.yaml'));
    const events = new EventLog();
    {
      await using lab = await start(t);
      const streams = await startWorkloadStreams(lab, t.workloads[0]!, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
      await sleep(500);
      const lines: string[] = [];
      for (const hv of ['hv2', 'hv3', 'hv1']) {
        const r = await migrateWorkload(lab, 'vm-a', hv, { events });
        assert.equal(r.switching.by, 'watcher');
        lines.push(...r.switching.changes.map((c) => `${c.node}: ${c.detail}`));
        await sleep(600);
      }
      assert.deepEqual(lines, [
        'R3: switch 172.16.10.2/32 wan 172.14.10.2/32 contiguous',
        'R3: switch 172.16.10.2/32 wan 172.13.10.2/32 contiguous',
        'R3: switch 172.16.10.2/32 wan 172.15.10.2/32 contiguous',
      ]);
      const captures = await Promise.all(streams.map((s) => s.stop()));
      const run = analyzeRun(
        { name: 'tri-dc', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'tour', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] },
        runDir,
      );
      const lastSwitch = Math.max(...events.events.filter((e) => e.kind === 'translator-switched').map((e) => e.atMs));
      for (const s of run.trials[0]!.streams) {
        assert.equal(s.analysis.windows.length, 3, s.label);
        for (const win of s.analysis.windows) assert.ok(win.downtimeMs !== null && win.downtimeMs < 2000, `${s.label} ${win.window}: ${win.downtimeMs} ms`);
        assert.ok(s.analysis.lastMs! > lastSwitch + 300, `${s.label} goes on after the tour`);
      }
    }
    assert.deepEqual(labNamespaces(testTopology(t).name), []);
    assert.deepEqual(labProcesses(testTopology(t).name), []);
  });

  it('`warplab migrate --json` moves the VM with the probe recording and writes the run\'s reports', async function () {
    await needs(this, 'vm');
    await using lab = await start({ ...(await loadTopologyFile(icoin)), name: 'icoin-cli' });
    const out = join(runDir, 'run');
    const r = spawnSync(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), 'migrate', lab.name, 'vm-a', '--to', 'adc-hv', '--json', '--out', out, '--echo-interval-ms', '1'], {
      encoding: 'utf8',
      env: { ...process.env, WARPLAB_STATE_DIR: stateDir },
    });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.to, 'adc-hv');
    assert.ok(j.figures.downtimeMs > 0);
    assert.deepEqual(j.probe.streams.map((s: { stream: string }) => s.stream), ['vm-a→U', 'U→vm-a→U']);
    for (const s of j.probe.streams) assert.ok(s.downtimeMs > 0 && s.downtimeMs < 2000 && s.received > 100, JSON.stringify(s));
    for (const f of ['report.json', 'report.md', 'junit.xml']) assert.ok(existsSync(join(out, f)), `${f} written`);
    assert.equal(lab.workload('vm-a')?.on, 'adc-hv');
  });

  it('Ctrl-C during `warplab migrate` cancels the move: exit 130, the VM stays at the source, no destination QEMU left', async function () {
    await needs(this, 'vm');
    const base = await loadTopologyFile(icoin);
    const t = { ...base, name: 'icoin-irq', workloads: base.workloads.map((w) => ({ ...w, vm: { ...w.vm, maxBandwidthMbps: 10 } })) };
    await using lab = await start(t);
    const child = spawn(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), 'migrate', lab.name, 'vm-a', '--to', 'adc-hv', '--no-probe'], { env: { ...process.env, WARPLAB_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Interrupt once the destination QEMU is up and RAM is moving (10 MB/s: ~8 s for the guest).
    for (const deadline = Date.now() + 20_000; !attach(lab.name, stateDir).snapshot.processes.some((p) => p.argv.includes('-incoming')); await sleep(50)) {
      assert.ok(Date.now() < deadline, 'the destination QEMU started');
    }
    await sleep(1000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /cancelled; vm-a still runs on pdc-hv/);
    assert.equal(lab.workload('vm-a')?.on, 'pdc-hv');
    const dest = attach(lab.name, stateDir).snapshot.processes.filter((p) => p.argv.includes('-incoming') || p.argv[0]!.endsWith('wl-watch'));
    assert.ok(dest.length >= 2 && dest.every((p) => !alive(p.pid)), 'destination QEMU and watcher are gone');
    assert.ok((await streaming(lab)) > 50, 'the VM still streams from PDC');
  });

  it('a container lab whose orchestrator is SIGKILLed is removed by `down`: dockerd, shims, containers, mounts', async function () {
    await needs(this, 'container');
    const t = testTopology(await icoinWith('container', 'icoin-kill'));
    const dist = join(packageRoot, 'dist', 'orchestrator');
    // The child brings the lab up, starts the container, and dies without any cleanup.
    const script = `
      const { up } = await import(${JSON.stringify(join(dist, 'lab', 'lab.js'))});
      const t = JSON.parse(process.env.TOPOLOGY);
      await up(t, { stateDir: process.env.STATE_DIR, substrate: process.env.SUBSTRATE });
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TOPOLOGY: JSON.stringify(t), STATE_DIR: stateDir, SUBSTRATE: substrate }, encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const engine = join(stateDir, 'labs', t.name, 'docker');
    assert.ok(existsSync(engine), 'the engine was started');
    assert.ok(labProcesses(t.name).length > 0, 'the lab outlived its orchestrator');
    const app = attach(t.name, stateDir).workload('vm-a')!.pid;
    assert.ok(alive(app), "the container's app runs");
    await down(t.name, stateDir);
    assert.ok(!alive(app), "the container's app is gone");
    assert.deepEqual(labProcesses(t.name), [], 'dockerd, containerd, shims, QEMU, agents gone');
    assert.deepEqual(labNamespaces(t.name), []);
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(stateDir)), [], 'no mounts left under the state dir');
  });

  /** The lab's newest recorded process whose argv matches. */
  const newest = (lab: StartedLab, match: (argv: readonly string[]) => boolean) => [...lab.snapshot.processes].reverse().find((p) => match(p.argv))!.pid;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** Runs `fault` once the migration is under way; returns the migration's error. */
  async function faultyMigration(lab: StartedLab, fault: () => void): Promise<MigrationError> {
    let injected = false;
    const err = await migrateWorkload(lab, 'vm-a', 'adc-hv', {
      onProgress: (p) => {
        if (p.phase === 'migrate' && !injected) {
          injected = true;
          fault();
        }
      },
    }).then(
      () => assert.fail('the migration should have failed'),
      (e: unknown) => e,
    );
    assert.ok(injected, 'the fault was injected');
    assert.ok(err instanceof MigrationError, String(err));
    return err;
  }

  /** The VM's own stream reaches U now. */
  async function streaming(lab: StartedLab): Promise<number> {
    const r = await lab.shell('U').exec([join(packageRoot, 'agents', 'build', 'udp-recv'), '--port', '5001', '--out', '/dev/null', '--duration', '1']);
    return JSON.parse(r.stderr.trim().split('\n').at(-1)!).logged as number;
  }

  it('the CRIU restore fails: clear error, the container runs again at the source, R3 unchanged', async function () {
    await needs(this, 'container');
    await using lab = await start(await icoinWith('container', 'icoin-fault'));
    const rulesBefore = (await translatorStatus(lab, 'R3')).rules;
    const engine = await attachEngine(engineDir(lab));
    let removal: Promise<unknown> | undefined;
    const err = await migrateWorkload(lab, 'vm-a', 'adc-hv', {
      onProgress: (p) => {
        // The checkpoint takes ~200 ms: time enough to pull the destination holder away.
        if (p.phase === 'checkpoint') {
          removal = engine.docker
            .listContainers({ filters: { label: ['org.warplab.holder'] } })
            .then((cs) => Promise.all(cs.filter((c) => c.Names.some((n) => n.includes('holder-adc-hv'))).map((c) => engine.docker.getContainer(c.Id).remove({ force: true }))));
        }
      },
    }).then(
      () => assert.fail('the migration should have failed'),
      (e: unknown) => e,
    );
    await removal;
    assert.ok(err instanceof MigrationError, String(err));
    assert.match(err.message, /restore of vm-a on adc-hv failed: .*vm-a runs again on pdc-hv/s);
    assert.equal(lab.workload('vm-a')?.on, 'pdc-hv');
    assert.deepEqual((await translatorStatus(lab, 'R3')).rules, rulesBefore, 'R3 unchanged');
    assert.ok((await streaming(lab)) > 50, 'the container streams to U from PDC again');
  });

  it('the destination QEMU dies mid-migration: clear error, the VM runs on at the source, R3 unchanged, nothing leaked', async function () {
    await needs(this, 'vm');
    const base = await loadTopologyFile(icoin);
    // Slow enough (≈ 4 s for the guest's RAM) that the kill lands mid-transfer.
    const t = { ...base, name: 'icoin-fault', workloads: base.workloads.map((w) => ({ ...w, vm: { ...w.vm, maxBandwidthMbps: 20 } })) };
    await using lab = await start(t);
    const rulesBefore = (await translatorStatus(lab, 'R3')).rules;
    const source = lab.workload('vm-a')!.pid;
    let dest = 0;
    let watcher = 0;
    const err = await faultyMigration(lab, () => {
      dest = newest(lab, (a) => a.includes('-incoming'));
      watcher = newest(lab, (a) => a[0]!.endsWith('wl-watch'));
      process.kill(dest, 'SIGKILL');
    });
    assert.match(err.message, /migration of vm-a from pdc-hv to adc-hv failed: .*vm-a still runs on pdc-hv/);
    assert.equal(lab.workload('vm-a')?.on, 'pdc-hv');
    assert.ok(alive(source), 'the source QEMU runs');
    assert.ok(!alive(dest) && !alive(watcher), 'destination QEMU and watcher are gone');
    assert.deepEqual((await translatorStatus(lab, 'R3')).rules, rulesBefore, 'R3 unchanged');
    assert.ok((await streaming(lab)) > 50, 'the VM still streams to U from PDC');
  });

  it('the watcher is dead when the VM resumes: warplab switches R3 itself and says so', async function () {
    await needs(this, 'vm');
    const t = { ...(await loadTopologyFile(icoin)), name: 'icoin-fault' };
    await using lab = await start(t);
    let watcher = 0;
    const err = await faultyMigration(lab, () => {
      watcher = newest(lab, (a) => a[0]!.endsWith('wl-watch'));
      process.kill(watcher, 'SIGKILL');
    });
    assert.match(err.message, /watcher on adc-hv was gone .*warplab made the changes on R3 itself.*vm-a runs on adc-hv/);
    assert.equal(lab.workload('vm-a')?.on, 'adc-hv');
    assert.ok((await translatorStatus(lab, 'R3')).rules.includes('page 172.16.10.2/32 pass'), 'R3 switched by the fallback');
    assert.ok((await streaming(lab)) > 50, 'the VM streams to U from ADC');
  });
});
