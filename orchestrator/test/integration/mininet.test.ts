// @root: what only the Mininet substrate has: its helper's protocol, Open vSwitch lans, the
// sandbox's lifetime (an orchestrator killed mid-build, after up, the sandbox killed on its
// own) and the message on a machine without Mininet. The lab tests run on it too (lab.test.ts).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chainTopologyYaml } from '../../bench/chain.js';
import { attach, listLabs, up } from '../../lab/lab.js';
import { reachability } from '../../lab/reachability.js';
import { packageRoot } from '../../paths.js';
import { MininetSubstrate, NODE_OBJECT, SANDBOX_OBJECT } from '../../substrate/mininet/mininet.js';
import { registerSubstrate } from '../../substrate/registry.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { cleanStateDir, labNetnsInodes, labProcesses, type NetnsFootprint, netnsStillHeld, requireSubstrate, rootLinks, tempStateDir, testName, testTopology } from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');
const distLab = join(packageRoot, 'dist', 'orchestrator', 'lab', 'lab.js');
const distLoad = join(packageRoot, 'dist', 'orchestrator', 'topology', 'load.js');

function warplab(stateDir: string, env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, WARPLAB_STATE_DIR: stateDir, ...env } });
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function assertNothingLeft(lab: string, stateDir: string, linksBefore: string[], ns?: NetnsFootprint): void {
  assert.deepEqual(netnsStillHeld(ns), [], 'network namespaces still held');
  assert.deepEqual(labProcesses(lab), [], 'processes left');
  assert.deepEqual(rootLinks(), linksBefore, 'links added to the root namespace');
  assert.ok(!existsSync(join(stateDir, 'labs', lab)), 'lab directory left');
}

const pidOf = (path: string | undefined) => Number(/^\/proc\/(\d+)\//.exec(path ?? '')?.[1]);

const LAN_LAB = (name: string) => `
name: ${name}
routing: auto
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: 10.7.0.2/24}}}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.7.0.1/24}, eth1: {ipv4: 10.7.1.1/24}}}
  seg: {kind: lan, subnet: 10.7.1.0/24}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.7.1.2/24}}}
  c: {kind: host, interfaces: {eth0: {ipv4: 10.7.1.3/24}}}
links:
  - a:eth0 -- r:eth0
  - r:eth1 -- seg
  - b:eth0 -- seg
  - c:eth0 -- seg
`;

/** 2 MB over TCP from `from` to `to`:9000, through the nodes' Shells; the byte count received. */
async function tcpTransfer(lab: Awaited<ReturnType<typeof up>>, from: string, to: string, addr: string): Promise<number> {
  const server = lab.shell(to).exec(['/usr/bin/python3', '-c', `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 9000)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
print(n)
`], { timeoutMs: 30_000 });
  await sleep(400);
  await lab.shell(from).exec(['/usr/bin/python3', '-c', `import socket; s = socket.create_connection(('${addr}', 9000), timeout=20); s.sendall(b'x' * 2000000); s.close()`], { timeoutMs: 30_000 });
  return Number((await server).stdout.trim());
}

describe('@root the Mininet substrate', function () {
  this.timeout(180_000);
  let stateDir: string;
  let linksBefore: string[];
  before(async function () {
    await requireSubstrate(this, 'mininet');
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    linksBefore = rootLinks();
  });
  afterEach(() => cleanStateDir(stateDir));

  it('speaks its protocol: info, cmd (input, env, exit codes), popen/poll/stop, errors', async () => {
    const sub = new MininetSubstrate({ switch: 'lxbr' });
    // Disposed at the end of the test: the registry is as the next suite expects it.
    using _registered = registerSubstrate('mininet-under-test', () => sub);
    const t = parseTopology(chainTopologyYaml(1, testName('proto')));
    await using lab = await up(t, { stateDir, substrate: 'mininet-under-test' });
    assert.equal(lab.snapshot.substrate, 'mininet');
    const helper = sub.helper!;
    const info = await helper.request('info');
    const recorded = Object.fromEntries(lab.snapshot.objects.filter((o) => o.name === NODE_OBJECT).map((o) => [o.node, pidOf(o.netns)]));
    assert.deepEqual(Object.fromEntries(Object.entries(info.nodes as Record<string, { hostPid: number }>).map(([n, v]) => [n, v.hostPid])), recorded);
    assert.equal(readFileSync(`/proc/${recorded.r1}/cmdline`, 'utf8').split('\0').at(-2), 'mininet:r1', 'a host PID of the node shell');

    const r = await helper.request('cmd', { node: 'r1', argv: ['sh', '-c', 'cat; echo "$X" >&2; cat /proc/sys/net/ipv4/ip_forward; exit 3'], input: 'in\n', env: { X: 'env-ok' } });
    assert.deepEqual([r.exitCode, r.stdout, r.stderr], [3, 'in\n1\n', 'env-ok\n']);
    const h = await helper.request('cmd', { node: 'h1', argv: ['ping', '-c1', '-W2', '10.0.1.2'] });
    assert.equal(h.exitCode, 0, h.stdout);

    const log = join(stateDir, 'p.log');
    const p = await helper.request('popen', { node: 'h1', argv: ['sh', '-c', 'echo started; exec sleep 60'], log });
    assert.ok(p.hostPid > 1 && p.pid > 1);
    await until('the process to exec sleep', () => readFileSync(`/proc/${p.hostPid}/cmdline`, 'utf8').startsWith('sleep\0'));
    assert.deepEqual((await helper.request('poll', { pid: p.pid })).running, true);
    assert.equal((await helper.request('stop', { pid: p.pid, signal: 'TERM' })).exitCode, -15);
    assert.equal(readFileSync(log, 'utf8'), 'started\n');

    await assert.rejects(helper.request('cmd', { node: 'nope', argv: ['true'] }), /cmd failed: RuntimeError: no node "nope"; nodes: h1, h2, r1/);
    await assert.rejects(helper.request('frobnicate'), /unknown op 'frobnicate'/);
  });

  it('lans on Open vSwitch (userspace datapath, started in the sandbox): reachability and TCP as predicted, nothing left on the host', async function () {
    const sub = new MininetSubstrate({ switch: 'ovs' });
    const missing = await sub.missing(parseTopology(LAN_LAB('x')));
    if (missing.length) {
      console.log(`      (skipped: ${missing.join('; ')})`);
      this.skip();
    }
    const ovsBefore = readdirSync('/var/lib/openvswitch');
    using _registered = registerSubstrate('mininet-ovs', () => sub);
    const t = parseTopology(LAN_LAB(testName('ovs')));
    let ns: NetnsFootprint;
    {
      await using lab = await up(t, { stateDir, substrate: 'mininet-ovs' });
      const daemons = labProcesses(t.name).map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]);
      assert.ok(daemons.includes('ovs-vswitchd') && daemons.includes('ovsdb-server'), daemons.join(' '));
      assert.match((await lab.shell('seg').exec(['ip', '-o', 'link', 'show', 'dev', 'seg'])).stdout, /^\d+: seg: /, 'the OVS bridge, in the sandbox');
      const rows = await reachability(lab);
      assert.deepEqual(rows.filter((r) => r.observed !== r.predicted), []);
      assert.ok(rows.every((r) => r.observed));
      // Tx checksum offload is off on every veth of an OVS lan: without that, TCP stalls.
      assert.equal(await tcpTransfer(lab, 'a', 'c', '10.7.1.3'), 2_000_000);
      assert.equal(await tcpTransfer(lab, 'b', 'c', '10.7.1.3'), 2_000_000);
      ns = labNetnsInodes(lab.snapshot);
    }
    assertNothingLeft(t.name, stateDir, linksBefore, ns);
    assert.deepEqual(readdirSync('/var/lib/openvswitch'), ovsBefore, "the host's Open vSwitch directory is untouched");
  });

  it('a machine without Mininet: `warplab up --substrate mininet` says what to install and makes nothing', async () => {
    const file = join(stateDir, 'chain.yaml');
    writeFileSync(file, chainTopologyYaml(1, testName('nomn')));
    const res = warplab(stateDir, { WARPLAB_MININET_PYTHON: '/nonexistent/python3' }, 'up', file, '--substrate', 'mininet');
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /cannot bring up .* on mininet:\n {2}- \/nonexistent\/python3 is missing: Mininet's Python API runs under the system Python; apt-get install mininet \(or run bash ci\/setup\.sh\)/);
    const noImport = warplab(stateDir, { WARPLAB_MININET_PYTHON: '/bin/false' }, 'up', file, '--substrate', 'mininet');
    assert.match(noImport.stderr, /Mininet is not installed: \/bin\/false cannot import mininet; apt-get install mininet/);
    const badSwitch = warplab(stateDir, { WARPLAB_MININET_SWITCH: 'ovs-kernel' }, 'up', file, '--substrate', 'mininet');
    assert.match(badSwitch.stderr, /Mininet switch "ovs-kernel" is not supported. Supported switches are "lxbr" \(Linux bridge\), "ovs" \(Open vSwitch, userspace datapath\)/);
    const unknown = warplab(stateDir, {}, 'up', file, '--substrate', 'mininit');
    assert.match(unknown.stderr, /substrate "mininit" is not supported. Supported substrates are "netns", "mininet"/);
    assert.deepEqual(listLabs(stateDir), []);
  });

  it('an orchestrator killed while building: the sandbox ends by itself (its stdin closes), down only forgets the state', async () => {
    const name = testName('eof');
    const file = join(stateDir, 'eof.yaml');
    writeFileSync(file, chainTopologyYaml(150, name));
    const child = spawn(process.execPath, [bin, 'up', file, '--state-dir', stateDir, '--substrate', 'mininet'], { stdio: 'ignore' });
    await until('Mininet nodes', () => labProcesses(name).length >= 6);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await until('the sandbox to end without down', () => labProcesses(name).length === 0, 10_000);
    assert.equal(attach(name, stateDir).snapshot.status, 'creating');
    assert.equal(warplab(stateDir, {}, 'down', name).status, 0);
    assertNothingLeft(name, stateDir, linksBefore);
  });

  it('an orchestrator killed after up: the lab (agents too) lives on, and down from the state alone removes it all', async () => {
    const t = testTopology(await loadTopologyFile(join(packageRoot, 'topologies', 'icn2011-fig3-intranet.yaml')));
    const script = join(stateDir, 'orchestrator.mjs');
    writeFileSync(script, `
import { up } from ${JSON.stringify(distLab)};
import { loadTopologyFile } from ${JSON.stringify(distLoad)};
const t = { ...(await loadTopologyFile(${JSON.stringify(join(packageRoot, 'topologies', 'icn2011-fig3-intranet.yaml'))})), name: ${JSON.stringify(t.name)} };
await up(t, { stateDir: ${JSON.stringify(stateDir)}, substrate: 'mininet' });
console.log('up');
setInterval(() => {}, 1000);
`);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('up') && resolve());
      child.on('exit', (c) => reject(new Error(`the orchestrator exited (${c}) before the lab was up`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const lab = attach(t.name, stateDir);
    assert.equal(lab.snapshot.status, 'up');
    assert.equal(lab.snapshot.processes.length, t.nodes.filter((n) => n.translator).length, 'the translator agents are recorded');
    const ping = await lab.shell('H1').exec(['ping', '-c1', '-W2', '172.17.11.32'], { check: false });
    assert.equal(ping.exitCode, 0, 'the lab still translates after its orchestrator died');
    const ns = labNetnsInodes(lab.snapshot);
    const res = warplab(stateDir, {}, 'down', t.name, '--json');
    assert.equal(res.status, 0, res.stderr);
    assert.ok(JSON.parse(res.stdout)[t.name].includes(`sandbox ${pidOf(lab.snapshot.objects[0]!.netns)} (Mininet, ${t.nodes.length} nodes)`), res.stdout);
    assertNothingLeft(t.name, stateDir, linksBefore, ns);
  });

  it('kill -9 of the sandbox alone removes every node and link; down then removes the agents', async () => {
    const t = testTopology(await loadTopologyFile(join(packageRoot, 'topologies', 'icn2011-fig3-intranet.yaml')));
    const lab = await up(t, { stateDir, substrate: 'mininet' });
    const s = lab.snapshot;
    const sandbox = pidOf(s.objects.find((o) => o.name === SANDBOX_OBJECT)!.netns);
    const nodes = s.objects.filter((o) => o.name === NODE_OBJECT && !s.processes.some((p) => p.node === o.node));
    const ns = labNetnsInodes(s);
    const quiet = labNetnsInodes({ ...s, objects: nodes });
    process.kill(sandbox, 'SIGKILL');
    await until('the sandbox to end', () => labProcesses(t.name).length === s.processes.length, 10_000);
    await until('namespaces without agents to go', () => netnsStillHeld(quiet).length === 0, 10_000);
    assert.deepEqual(rootLinks(), linksBefore);
    await lab.down();
    assertNothingLeft(t.name, stateDir, linksBefore, ns);
  });
});
