// The L2 overlay end to end on its two-DC topology: real QEMU, VXLAN between the DC gateways,
// static FDB pushed on the announcement or learned, the UDP probe on both directions, and
// nothing left behind by `down`, nor by `down` after a SIGKILLed `up`.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { attach, up, type StartedLab } from '../../lab/lab.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { tunnelOverhead } from '../../migration/strategies/l2-overlay/overhead.js';
import type { L2OverlaySettings } from '../../migration/strategies/l2-overlay/settings.js';
import { getStrategy } from '../../migration/strategy.js';
import { packageRoot } from '../../paths.js';
import { singleHostClock } from '../../probe/clock.js';
import { EventLog } from '../../probe/timeline.js';
import { analyzeRun, streamInput } from '../../report/run.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { startWorkloadStreams } from '../../workload/streams.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireSubstrate, requireWorkloads, rootLinks, tempStateDir, testName, testSubstrates, testTopology } from '../helpers.js';

const file = join(packageRoot, 'topologies', 'l2-overlay-two-dc.yaml');
const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');
const VM = '172.16.10.2';

/** The VTEPs' FDB entries that send the VM into the tunnel, `node: where (state)`. */
async function tunnelEntries(lab: StartedLab): Promise<string[]> {
  const rules = await getStrategy('l2-overlay').rules!(lab);
  return rules.flatMap((r) => r.tables.find((t) => t.title === 'FDB entries for workload MACs')!.rows.map(([, , where, state]) => `${r.node}: ${where} (${state})`)).filter((e) => e.includes('vxlan100')).sort();
}

async function reaches(lab: StartedLab, from: string): Promise<boolean> {
  return (await lab.shell(from).exec(['ping', '-n', '-c3', '-i0.2', '-W1', VM], { check: false })).exitCode === 0;
}

/** The topology with other overlay settings; `home`: only R1 is the VM's gateway, R2 just bridges. */
function variant(t: Topology, name: string, s: Partial<L2OverlaySettings>): Topology {
  const settings = { ...t.migration!.settings!['l2-overlay'] as L2OverlaySettings, ...s };
  const nodes = s.gateway === 'home' ? t.nodes.map((n) => (n.name === 'R2' ? { ...n, interfaces: n.interfaces.map((i) => (i.name === 'eth1' ? { name: i.name, ipv4: [], announce: false } : i)) } : n)) : t.nodes;
  return { ...t, name, nodes, migration: { ...t.migration!, settings: { 'l2-overlay': settings } } };
}

for (const substrate of testSubstrates()) describe(`@root l2 overlay (VXLAN between the DC gateways) on ${substrate}`, function () {
  this.timeout(300_000);
  let stateDir: string;
  let runDir: string;
  let t: Topology;
  before(async function () {
    await requireSubstrate(this, substrate);
    t = await loadTopologyFile(file);
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

  /** There and back with both probe streams; every stream resumes; U reaches the VM after each move. */
  async function thereAndBack(lab: StartedLab, check: { there(): Promise<void>; back(): Promise<void> }) {
    const events = new EventLog();
    const streams = await startWorkloadStreams(lab, t.workloads[0]!, { dir: runDir, echoIntervalMs: 1, maxDurationS: 120 });
    await sleep(500);
    const there = await migrateWorkload(lab, 'vm-a', 'adc-hv', { events });
    assert.equal(there.switching.by, 'watcher', there.switching.problem);
    assert.ok(there.switching.switchingMs !== null && there.switching.switchingMs < 1000, `switching ${there.switching.switchingMs} ms`);
    assert.ok(await reaches(lab, 'U'), 'U reaches the VM in ADC');
    await check.there();
    await sleep(500);
    const back = await migrateWorkload(lab, 'vm-a', 'pdc-hv', { events, settings: { trigger: 'orchestrator' } });
    assert.equal(back.switching.by, 'orchestrator');
    assert.ok(await reaches(lab, 'U'), 'U reaches the VM back in PDC');
    await check.back();
    await sleep(800);
    const captures = await Promise.all(streams.map((s) => s.stop()));
    const run = analyzeRun({ name: 'l2', createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label: 'l2', events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] }, runDir);
    for (const s of run.trials[0]!.streams) {
      assert.equal(s.analysis.didNotResume, 0, `${s.label} did not resume`);
      for (const w of s.analysis.windows) assert.ok(w.downtimeMs !== null && w.downtimeMs < 3000, `${s.label} ${w.window}: downtime ${w.downtimeMs} ms`);
    }
    console.log(`      switching ${there.switching.switchingMs} ms there, ${back.switching.switchingMs} ms back; downtime ${run.trials[0]!.streams.map((s) => `${s.label} ${s.analysis.windows.map((w) => w.downtimeMs).join('/')} ms`).join(', ')}`);
    return { there, back };
  }

  it('static FDB, anycast gateway: the VM moves PDC → ADC → PDC, R1 and R2 move its MAC, the tunnel adds 50 bytes per frame on the WAN', async function () {
    const name = testName('l2ov');
    {
      await using lab = await up(testTopology(t), { stateDir, substrate });
      assert.deepEqual(await tunnelEntries(lab), ['R2: vxlan100 (bridge wb-eth1) (static)', 'R2: vxlan100 → 10.255.1.1 (R1) (static)'], 'at home: only R2 sends the VM into the tunnel');
      const rules = await getStrategy('l2-overlay').rules!(lab);
      assert.deepEqual(rules.map((r) => [r.node, r.tables[0]!.rows[0], r.tables[2]!.rows]), [
        ['R1', ['vxlan100', '100', '10.255.1.1', '4789', 'no', '1500', 'wb-eth1'], [['vxlan100', '10.255.2.1 (R2)']]],
        ['R2', ['vxlan100', '100', '10.255.2.1', '4789', 'no', '1500', 'wb-eth1'], [['vxlan100', '10.255.1.1 (R1)']]],
      ]);
      await thereAndBack(lab, {
        async there() {
          assert.deepEqual(await tunnelEntries(lab), ['R1: vxlan100 (bridge wb-eth1) (static)', 'R1: vxlan100 → 10.255.2.1 (R2) (static)']);
          // U's echo probes enter at R1 (the only way into S) and leave it again in the tunnel.
          const o = await tunnelOverhead(lab, t.workloads[0]!, 'R1', 2);
          console.log(`      overhead on R1:${o.iface}: ${JSON.stringify(o)}`);
          assert.ok(o.tunnelled > 50 && o.plain > 50, JSON.stringify(o));
          assert.equal(o.overheadBytes, 50);
          assert.equal(o.wireBytes - o.plainBytes, 50, 'the same probes, inside and outside the tunnel');
        },
        async back() {
          assert.deepEqual(await tunnelEntries(lab), ['R2: vxlan100 (bridge wb-eth1) (static)', 'R2: vxlan100 → 10.255.1.1 (R1) (static)']);
        },
      });
    }
    assert.deepEqual(labNamespaces(name), [], 'namespaces left');
    assert.deepEqual(labProcesses(name), [], 'QEMU, listeners, watcher or probe processes left');
    assert.deepEqual(rootLinks().filter((l) => l.startsWith('vxlan')), [], 'no VXLAN device in the root namespace');
  });

  it('flood-and-learn, gateway only at home: the VTEPs learn the MAC from its RARP, U reaches it through the tromboning gateway', async function () {
    const v = variant(testTopology(t), testName('l2lrn'), { fdb: 'learn', gateway: 'home' });
    {
      await using lab = await up(v, { stateDir, substrate });
      const { there } = await thereAndBack(lab, {
        async there() {
          // R2 has no address on the LAN: the VM's way out is R1, through the tunnel.
          assert.ok((await lab.shell('adc-hv').exec(['ping', '-n', '-c1', '-W1', '172.16.0.1'], { check: false })).exitCode === 0, 'the home gateway answers in ADC');
        },
        async back() {},
      });
      const learned = there.switching.changes.filter((c) => c.action === 'fdb-learned');
      assert.deepEqual(learned.map((c) => c.node).sort(), ['R1', 'R2'], JSON.stringify(there.switching.changes));
      assert.match(learned.find((c) => c.node === 'R1')!.detail, /dev vxlan100/);
      const announce = there.switching.announce!.atMs;
      for (const c of learned) assert.ok(c.atMs >= announce - 5 && c.atMs < announce + 1000, `${c.node} learned at ${c.atMs - announce} ms after the RARP`);
    }
    assert.deepEqual(labNamespaces(v.name), []);
  });

  it('after SIGKILL of `up`, `down` leaves no namespace, process or VXLAN device', async function () {
    const name = testName('l2kill');
    const yaml = join(stateDir, 'l2kill.yaml');
    writeFileSync(yaml, readFileSync(file, 'utf8').replace(/^name: l2ov$/m, `name: ${name}`));
    const env = { ...process.env, WARPLAB_STATE_DIR: stateDir, WARPLAB_SUBSTRATE: substrate };
    const child = spawn(process.execPath, [bin, 'up', yaml], { stdio: 'ignore', env });
    // Through the lab's own shell on R1: a Mininet node is no /run/netns namespace.
    const r1 = async () => {
      try {
        return (await attach(name, stateDir).shell('R1').exec(['ip', 'link', 'show', 'vxlan100'], { check: false })).exitCode === 0;
      } catch {
        return false; // no state yet
      }
    };
    const exited = new Promise((r) => child.on('exit', r));
    let made = false;
    for (const deadline = Date.now() + 120_000; !(made = await r1()) && Date.now() < deadline; await sleep(100));
    child.kill('SIGKILL');
    await exited;
    assert.ok(made, 'R1 got no VXLAN device');
    const down = spawnSync(process.execPath, [bin, 'down', name], { encoding: 'utf8', env });
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(labNamespaces(name), []);
    assert.deepEqual(labProcesses(name), []);
    assert.deepEqual(rootLinks().filter((l) => l.startsWith('vxlan')), []);
  });
});
