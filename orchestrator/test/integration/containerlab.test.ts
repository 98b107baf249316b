// A containerlab file end to end: topologies/containerlab/frr-ospf.clab.yml as written for
// containerlab, brought up by warplab: the hosts configured by their exec lines, FRR's OSPF
// in the three routers, host to host across them, and nothing left after `down`.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { frrExtension, vtysh } from '../../frr/extension.js';
import { up, type StartedLab } from '../../lab/lab.js';
import { cmdline } from '../../lab/processes.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { cleanStateDir, labNamespaces, labProcesses, requireSubstrate, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const file = join(packageRoot, 'topologies', 'containerlab', 'frr-ospf.clab.yml');
/** Measured ~1 s (hello 1, dead 3, no throttling); generous for a loaded machine. */
const CONVERGE_MS = 30_000;

/** Routes FRR installed in the kernel of `node`, as `prefix` strings. */
async function ospfRoutes(lab: StartedLab, node: string): Promise<string[]> {
  const r = await lab.shell(node).exec(['ip', '-4', 'route', 'show', 'proto', 'ospf']);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
}

async function converged(lab: StartedLab): Promise<number> {
  const started = Date.now();
  const want: [string, string][] = [['r1', '192.168.3.0/24'], ['r3', '192.168.1.0/24']];
  for (; Date.now() - started < CONVERGE_MS; await sleep(100)) {
    const have = await Promise.all(want.map(async ([node, prefix]) => (await ospfRoutes(lab, node)).includes(prefix)));
    if (have.every(Boolean)) return Date.now() - started;
  }
  const neighbours = (await vtysh(lab, 'r2', ['show ip ospf neighbor'], false)).stdout;
  throw new Error(`OSPF did not converge within ${CONVERGE_MS / 1000} s; r2's neighbours:\n${neighbours}`);
}

const runDirs = (name: string) => (existsSync('/var/run/frr') ? readdirSync('/var/run/frr').filter((d) => d.startsWith(`wl-${name}-`)) : []);

// FRR's daemons run through the node's Shell, the exec lines through its imageShell.
for (const substrate of testSubstrates()) describe(`@root containerlab file with FRR nodes on ${substrate}`, function () {
  this.timeout(120_000);
  let stateDir: string;
  let t: Topology;
  before(async function () {
    await requireSubstrate(this, substrate);
    t = testTopology(await loadTopologyFile(file));
    const missing = await frrExtension.missing(t);
    if (missing.length) {
      console.log(`      (skipped: ${missing.join('; ')})`);
      this.skip();
    }
  });
  beforeEach(() => (stateDir = tempStateDir()));
  afterEach(() => cleanStateDir(stateDir));

  it('frr-ospf.clab.yml: exec lines address the hosts, OSPF converges, h1 pings h2 across r1-r2-r3, down leaves nothing', async () => {
    {
      await using lab = await up(t, { stateDir, substrate });
      const daemons = labProcesses(t.name).filter((p) => cmdline(p)[0]?.startsWith('/usr/lib/frr/'));
      assert.equal(daemons.length, 6, 'zebra and ospfd on each of the three routers');
      assert.deepEqual(runDirs(t.name).sort(), ['r1', 'r2', 'r3'].map((r) => `wl-${t.name}-${r}`));
      const ms = await converged(lab);
      console.log(`      OSPF converged ${ms} ms after up`);
      const full = (await vtysh(lab, 'r2', ['show ip ospf neighbor'])).stdout.split('\n').filter((l) => /\bFull\b/.test(l));
      assert.equal(full.length, 2, 'r2 has r1 and r3 as Full neighbours');
      const ping = await lab.shell('h1').exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', '192.168.3.2'], { check: false });
      assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /3 received/);
    }
    assert.deepEqual(labNamespaces(t.name), []);
    assert.deepEqual(labProcesses(t.name), []);
    assert.deepEqual(runDirs(t.name), []);
  });
});

for (const substrate of testSubstrates()) describe(`@root containerlab file with linux nodes and a bridge on ${substrate}`, function () {
  this.timeout(60_000);
  let stateDir: string;
  before(async function () {
    await requireSubstrate(this, substrate);
  });
  beforeEach(() => (stateDir = tempStateDir()));
  afterEach(() => cleanStateDir(stateDir));

  it('linux-hosts.clab.yml: a and b reach c through gw, which forwards because its exec line says so', async () => {
    const t = testTopology(await loadTopologyFile(join(packageRoot, 'topologies', 'containerlab', 'linux-hosts.clab.yml')));
    {
      await using lab = await up(t, { stateDir, substrate });
      for (const from of ['a', 'b']) {
        const ping = await lab.shell(from).exec(['ping', '-c', '1', '-W', '2', '192.168.20.2'], { check: false });
        assert.equal(ping.exitCode, 0, `${from}: ${ping.stdout}${ping.stderr}`);
      }
    }
    assert.deepEqual(labNamespaces(t.name), []);
  });
});
