// @root: real labs, on every substrate with the same assertions. Every test ends by checking
// that nothing of its lab is left: namespaces, processes carrying its mark, root links.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chainTopologyYaml } from '../../bench/chain.js';
import { attach, up, type StartedLab } from '../../lab/lab.js';
import { carriesMark } from '../../lab/processes.js';
import { reachability } from '../../lab/reachability.js';
import { packageRoot } from '../../paths.js';
import { LocalShell } from '../../shell/local.js';
import { missingQdiscs } from '../../substrate/netns/linkparams.js';
import { NODE_OBJECT as MININET_NODE } from '../../substrate/mininet/mininet.js';
import { NODE_OBJECT as DOCKER_NODE } from '../../substrate/docker/plan.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import {
  cleanStateDir,
  labNamespaces,
  labNetnsInodes,
  labProcesses,
  labStarted,
  type NetnsFootprint,
  netnsStillHeld,
  requireSubstrate,
  rootLinks,
  shippedTopologies,
  tempStateDir,
  testName,
  testSubstrates,
  testTopology,
} from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');

/** Containers' cgroups (cgroupfs driver, v1 or v2): runc removes them, or `down` does after a kill. */
function dockerCgroups(): string[] {
  return readdirSync('/sys/fs/cgroup').flatMap((h) => {
    try {
      return readdirSync(join('/sys/fs/cgroup', h, 'docker')).map((id) => `${h}/docker/${id}`);
    } catch {
      return [];
    }
  });
}

let cgroupsBefore: string[] = [];

function assertNothingLeft(lab: string, stateDir: string, linksBefore: string[], ns?: NetnsFootprint): void {
  assert.deepEqual(labNamespaces(lab), [], 'namespaces left');
  assert.deepEqual(dockerCgroups(), cgroupsBefore, 'container cgroups left');
  assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(stateDir)), [], 'mounts left');
  assert.deepEqual(netnsStillHeld(ns), [], 'network namespaces still held');
  assert.deepEqual(labProcesses(lab), [], 'processes left');
  assert.deepEqual(rootLinks(), linksBefore, 'links added to the root namespace');
  assert.ok(!existsSync(join(stateDir, 'labs', lab)), 'lab directory left');
}

function warplab(stateDir: string, substrate: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, WARPLAB_STATE_DIR: stateDir, WARPLAB_SUBSTRATE: substrate } });
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Nodes of a lab that exist in the kernel now. */
function liveNodes(substrate: string, lab: StartedLab): number {
  if (substrate === 'netns') return labNamespaces(lab.name).length;
  const s = lab.snapshot;
  return s.objects.filter((o) => (o.name === MININET_NODE || o.name === DOCKER_NODE) && carriesMark(Number(/\/proc\/(\d+)\//.exec(o.netns ?? '')?.[1]), s.mark)).length;
}

/**
 * Mininet's `up` has begun making nodes once its sandbox holds a few processes; docker's once
 * containers run beside its dockerd and containerd (each with a shim, all carrying the mark).
 */
const started = (substrate: string, lab: string) => labStarted(lab, substrate === 'mininet' ? 4 : substrate === 'docker' ? 10 : 1);

for (const substrate of testSubstrates()) {
  describe(`@root lab lifecycle on ${substrate}`, function () {
    this.timeout(180_000);
    let stateDir: string;
    let linksBefore: string[];
    const opts = () => ({ stateDir, substrate });
    before(async function () {
      await requireSubstrate(this, substrate);
    });
    beforeEach(() => {
      stateDir = tempStateDir();
      linksBefore = rootLinks();
      cgroupsBefore = dockerCgroups();
    });
    afterEach(() => cleanStateDir(stateDir));

    for (const file of shippedTopologies) {
      it(`${basename(file)}: up, the reachability the topology predicts, down, nothing left`, async () => {
        const t = testTopology(await loadTopologyFile(file));
        if (t.hosts) {
          // Its nodes live on several hosts: refused, saying why, before anything is made.
          await assert.rejects(up(t, opts()), /builds on this machine only: use -s ssh/);
          return assertNothingLeft(t.name, stateDir, linksBefore);
        }
        let ns: NetnsFootprint;
        {
          await using lab = await up(t, opts());
          assert.equal(liveNodes(substrate, lab), t.nodes.length);
          const rows = await reachability(lab);
          assert.ok(rows.some((r) => r.predicted), 'the topology connects at least one pair by plain routing');
          const odd = rows.filter((r) => r.observed !== r.predicted).map((r) => `${r.from}→${r.to} predicted ${r.predicted} observed ${r.observed} ${r.reason ?? ''}`);
          ns = labNetnsInodes(lab.snapshot);
          assert.deepEqual(odd, []);
        }
        assertNothingLeft(t.name, stateDir, linksBefore, ns);
      });
    }

    it('two labs of the same topology under different names run side by side', async () => {
      const [na, nb] = [testName('side-a'), testName('side-b')];
      const yaml = chainTopologyYaml(3, na);
      const a = await up(parseTopology(yaml), opts());
      const b = await up(parseTopology(yaml.replace(`name: ${na}`, `name: ${nb}`)), opts());
      const ns = labNetnsInodes(a.snapshot);
      await a.down();
      assert.deepEqual(labNamespaces(na), []);
      assert.deepEqual(netnsStillHeld(ns), []);
      const h2 = b.topology.nodes.find((n) => n.name === 'h2')!.interfaces[0]!.ipv4[0]!.split('/')[0]!;
      const reached = await b.shell('h1').exec(['ping', '-c1', '-W2', h2], { check: false });
      assert.equal(reached.exitCode, 0, 'side-b still works after side-a is down');
      await b.down();
      assertNothingLeft(na, stateDir, linksBefore);
      assertNothingLeft(nb, stateDir, linksBefore);
    });

    it('a second up of the same lab is refused and changes nothing', async () => {
      const t = parseTopology(chainTopologyYaml(2, testName('twice')));
      await using lab = await up(t, opts());
      await assert.rejects(up(t, opts()), new RegExp(`lab "${t.name}" already exists`));
      assert.equal(liveNodes(substrate, lab), t.nodes.length);
      assert.equal((await lab.shell('r1').exec(['ip', 'route'])).exitCode, 0);
    });

    it('down kills processes started in the lab, and only those', async () => {
      const t = parseTopology(chainTopologyYaml(2, testName('procs')));
      const lab = await up(t, opts());
      const inLab = lab.shell('h1').spawn(['sleep', '300']);
      const outside = spawn('sleep', ['300']);
      const ns = labNetnsInodes(lab.snapshot);
      await lab.down();
      assert.notEqual(await inLab.exited, 0);
      assert.equal(outside.exitCode, null, 'a process outside the lab keeps running');
      outside.kill();
      assertNothingLeft(t.name, stateDir, linksBefore, ns);
    });

    it('link parameters: bw and max_queue_size shape both ends; delay comes up only where the kernel has netem', async () => {
      const name = testName('shaped');
      const yaml = (extra: string) => `
name: ${name}
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: 10.9.0.1/24}}}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.9.0.2/24}}}
  l: {kind: lan}
  c: {kind: host, interfaces: {eth0: {ipv4: 10.9.1.1/24}}}
  d: {kind: host, interfaces: {eth0: {ipv4: 10.9.1.2/24}}}
links:
  - {a: "a:eth0", b: "b:eth0", bw: 20, max_queue_size: 40${extra}}
  - {a: "c:eth0", b: l, bw: 5}
  - d:eth0 -- l
`;
      {
        await using lab = await up(parseTopology(yaml('')), opts());
        for (const n of ['a', 'b']) {
          const q = (await lab.shell(n).exec(['tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout;
          assert.match(q, /qdisc htb 5: root/, `${n}: ${q}`);
          assert.match(q, /qdisc pfifo 10: parent 5:1 limit 40p/, `${n}: ${q}`);
          assert.match((await lab.shell(n).exec(['tc', 'class', 'show', 'dev', 'eth0'])).stdout, /rate 20Mbit/);
        }
        // The lan end of c's link is the switch/bridge port, in the lan's namespace.
        assert.match((await lab.shell('c').exec(['tc', 'class', 'show', 'dev', 'eth0'])).stdout, /rate 5Mbit/);
        const ports = (await lab.shell('l').exec(['sh', '-c', `for d in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do tc class show dev $d; done`])).stdout;
        assert.equal(ports.match(/rate 5Mbit/g)?.length, 1, ports);
        assert.equal((await lab.shell('a').exec(['ping', '-c1', '-W2', '10.9.0.2'], { check: false })).exitCode, 0);
      }
      assertNothingLeft(name, stateDir, linksBefore);

      const netem = (await missingQdiscs(new LocalShell(), ['netem'])).missing.length === 0;
      if (netem) {
        await using lab = await up(parseTopology(yaml(', delay: 10ms')), opts());
        const rtt = Number(/time=([\d.]+) ms/.exec((await lab.shell('a').exec(['ping', '-c1', '-W2', '10.9.0.2'])).stdout)?.[1]);
        assert.ok(rtt >= 20, `a 10ms delay at both ends: round trip ${rtt} ms`);
      } else {
        await assert.rejects(up(parseTopology(yaml(', delay: 10ms')), opts()), (e: Error) => {
          assert.match(e.message, /cannot bring up .* on /);
          assert.match(e.message, /link a:eth0 -- b:eth0 \(links\[0\]\): delay, max_queue_size need the netem qdisc, which this kernel lacks \(kernel option CONFIG_NET_SCH_NETEM/);
          return true;
        });
      }
      assertNothingLeft(name, stateDir, linksBefore);
    });

    it('Ctrl-C during up removes what was made and exits 130', async () => {
      const name = testName('irq');
      const file = join(stateDir, 'big.yaml');
      writeFileSync(file, chainTopologyYaml(150, name));
      const child = spawn(process.execPath, [bin, 'up', file, '--state-dir', stateDir, '--substrate', substrate], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      await until('the first nodes', () => started(substrate, name));
      child.kill('SIGINT');
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(code, 130, `exit ${code}: ${stderr}`);
      assert.match(stderr, /SIGINT: stopping and removing what was made/);
      assertNothingLeft(name, stateDir, linksBefore);
    });

    it('after SIGKILL of the orchestrator, down removes everything from the state alone', async () => {
      const name = testName('killed');
      const file = join(stateDir, 'killed.yaml');
      writeFileSync(file, chainTopologyYaml(150, name));
      const child = spawn(process.execPath, [bin, 'up', file, '--state-dir', stateDir, '--substrate', substrate], { stdio: 'ignore' });
      await until('the first nodes', () => started(substrate, name));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const state = JSON.parse(readFileSync(join(stateDir, 'labs', name, 'state.json'), 'utf8'));
      assert.equal(state.status, 'creating');
      const res = warplab(stateDir, substrate, 'down', name);
      assert.equal(res.status, 0, res.stderr);
      assertNothingLeft(name, stateDir, linksBefore);
    });

    it('a lab that is up survives the orchestrator; CLI exec, inspect and down work on it', async () => {
      const name = testName('cli');
      const file = join(stateDir, 'cli.yaml');
      writeFileSync(file, chainTopologyYaml(2, name));
      const upRes = warplab(stateDir, substrate, 'up', file);
      assert.equal(upRes.status, 0, upRes.stderr);
      assert.equal(labNetnsInodes(attach(name, stateDir).snapshot).inodes.length, substrate === 'mininet' ? 5 : 4, 'the nodes (and the Mininet sandbox) are still there');
      // A long-running process started through `exec`, left running when down comes, and
      // orphaned: its parent, the exec command, is killed, so init has to reap it.
      const bg = spawn(process.execPath, [bin, 'exec', name, 'r1', '--state-dir', stateDir, '--', 'sleep', '300'], { stdio: 'ignore' });
      await until('the exec process recorded', () => attach(name, stateDir).snapshot.processes.length > 0);
      const orphan = attach(name, stateDir).snapshot.processes[0]!.pid;
      bg.kill('SIGKILL');
      await new Promise((r) => bg.on('exit', r));
      const inspect = JSON.parse(warplab(stateDir, substrate, 'inspect', name, '--json').stdout);
      assert.equal(inspect.substrate, substrate);
      assert.deepEqual(inspect.nodes.map((n: { name: string; running: boolean }) => [n.name, n.running]), [['h1', true], ['r1', true], ['r2', true], ['h2', true]]);
      assert.equal(inspect.nodes[1].interfaces.length, 2);
      const ls = JSON.parse(warplab(stateDir, substrate, 'ls', '--json').stdout);
      assert.deepEqual(ls.map((l: { name: string; status: string }) => [l.name, l.status]), [[name, 'up']]);
      const exec = warplab(stateDir, substrate, 'exec', name, 'h1', '--', 'sh', '-c', 'exit 7');
      assert.equal(exec.status, 7);
      assert.equal(attach(name, stateDir).topology.name, name);
      const ns = labNetnsInodes(attach(name, stateDir).snapshot);
      assert.equal(warplab(stateDir, substrate, 'down', name).status, 0);
      assert.ok(!existsSync(`/proc/${orphan}`), `process ${orphan} reaped, not a zombie, when down returned`);
      assertNothingLeft(name, stateDir, linksBefore, ns);
    });
  });
}
