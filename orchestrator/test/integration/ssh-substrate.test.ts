// @root: the SSH substrate on three rig hosts (test/ssh-rig.ts), each a namespace with its own
// sshd, /run and /tmp, joined by an underlay bridge: a lab across them is built through SSH
// alone, its nodes reach each other over VXLAN, and `down` leaves nothing on any host, even
// after SIGKILL of `up` or while a host does not answer.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach, down, up } from '../../lab/lab.js';
import { reachability } from '../../lab/reachability.js';
import { SshShell } from '../../shell/ssh.js';
import { closeSshConnections, connectionTo } from '../../substrate/ssh/connections.js';
import { hostLabDir } from '../../substrate/ssh/machine.js';
import { switchPage, translatorStatus } from '../../translator/control.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { packageRoot } from '../../paths.js';
import { chainTopologyYaml } from '../../bench/chain.js';
import { cleanStateDir, fixtures, requireRoot, tempStateDir, testName } from '../helpers.js';
import { SSHD, startSshRig, type SshRig } from '../ssh-rig.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');

describe('@root SSH substrate on three rig hosts', function () {
  this.timeout(180_000);
  let rig: SshRig | undefined;
  let stateDir: string;
  let topology: Topology;
  const env = () => ({ ...process.env, WARPLAB_SSH_CONFIG: rig!.sshConfig, WARPLAB_STATE_DIR: stateDir });
  const hostShell = (h: string) => new SshShell(connectionTo(topology.hosts!.find((x) => x.name === h)!), `host ${h}`);
  /** What a host still has of lab `name`: namespaces, links in its own namespace, marked processes. */
  const leftOn = async (h: string, name: string, mark?: string) => {
    const sh = hostShell(h);
    const ns = (await sh.exec(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.includes(`wl-${name}-`));
    const links = (await sh.exec(['ip', '-o', 'link'])).stdout.split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0]!).filter((l) => !['lo', 'ul0'].includes(l));
    const procs = mark ? (await sh.exec(['sh', '-c', `grep -lsa 'WARPLAB_LAB=${mark}' /proc/[0-9]*/environ || true`])).stdout.split('\n').filter(Boolean) : [];
    const dir = (await sh.exec(['test', '-e', hostLabDir(name)], { check: false })).exitCode === 0 ? [`directory ${hostLabDir(name)}`] : [];
    return [...ns.map((n) => `namespace ${n}`), ...links.map((l) => `link ${l}`), ...procs.map((p) => `process ${p}`), ...dir];
  };
  const nothingLeft = async (name: string, mark?: string) => {
    for (const h of ['h1', 'h2', 'h3']) assert.deepEqual(await leftOn(h, name, mark), [], `nothing of ${name} left on ${h}`);
    assert.ok(!existsSync(join(stateDir, 'labs', name)), 'the lab directory is gone');
  };
  const warplab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: env() });
  /** The rig's client configuration plus `Host client`, the alias the ICOIN file names its client host by. */
  const withClientAlias = () => {
    const config = join(rig!.dir, 'ssh_config.icoin');
    const h3 = /Host 10\.99\.0\.13\n(?: {2}.*\n?)+/.exec(readFileSync(rig!.sshConfig, 'utf8'))![0];
    writeFileSync(config, `${readFileSync(rig!.sshConfig, 'utf8')}\n${h3.replace('Host 10.99.0.13', 'Host client')}`);
    return config;
  };

  before(async function () {
    requireRoot(this);
    if (!existsSync(SSHD)) {
      console.log(`      (skipped: ${SSHD} is missing: bash ci/setup.sh installs openssh-server)`);
      this.skip();
    }
    // Jumbo frames on the underlay: the L2 overlay's own VXLAN runs inside the substrate's.
    rig = await startSshRig({ hosts: 3, underlayMtu: 9000 });
    process.env.WARPLAB_SSH_CONFIG = rig.sshConfig;
    stateDir = tempStateDir();
    topology = await loadTopologyFile(join(fixtures, 'hosts', 'span-3hosts.yaml'));
  });
  after(async () => {
    // The rig goes even when a lab could not be removed: its sshds would keep mocha running.
    try {
      if (stateDir) await cleanStateDir(stateDir);
    } finally {
      closeSshConnections();
      delete process.env.WARPLAB_SSH_CONFIG;
      if (rig) assert.deepEqual(await rig.close(), [], 'the rig left nothing behind');
    }
  });

  it('builds the lab through SSH alone: nodes per host, VXLAN between them, a lan across three hosts', async () => {
    const name = testName('span3');
    const lab = await up({ ...topology, name }, { stateDir });
    try {
      assert.equal(lab.snapshot.substrate, 'ssh', 'a topology with hosts goes to the ssh substrate');
      assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(`wl-${name}-`), "nothing on the orchestrator's own machine");
      const on = async (h: string) => (await hostShell(h).exec(['ip', 'netns', 'list'])).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!.replace(`wl-${name}-`, '')).sort();
      assert.deepEqual([await on('h1'), await on('h2'), await on('h3')], [['a', 'mgmt', 'r1'], ['mgmt', 'r2'], ['b', 'mgmt', 'r3']]);
      // Every tunnel is recorded with its host and VNI; the two ends of a link share one.
      const tunnels = lab.snapshot.objects.filter((o) => o.kind === 'tunnel');
      assert.deepEqual(tunnels.map((o) => `${o.node}:${o.name}@${o.host}`).sort(), ['mgmt:vxlan0@h1', 'mgmt:vxlan0@h2', 'mgmt:vxlan0@h3', 'r1:eth1@h1', 'r2:eth0@h2', 'r2:eth1@h2', 'r3:eth0@h3'].sort());
      assert.equal(new Set(tunnels.map((o) => o.vni)).size, 3);
      const r1eth1 = (await lab.shell('r1').exec(['ip', '-d', '-o', 'link', 'show', 'eth1'])).stdout;
      assert.match(r1eth1, /mtu 1450 .*vxlan id \d+ remote 10\.99\.0\.12 local 10\.99\.0\.11/);
      // The model's reachability holds across hosts, and the lan's members on three hosts talk.
      const reach = await reachability(lab);
      assert.ok(reach.length > 0 && reach.every((r) => r.observed === r.predicted), JSON.stringify(reach.filter((r) => r.observed !== r.predicted)));
      await lab.shell('r1').exec(['ping', '-c1', '-W2', '10.50.0.3']);
      // An attached process streams its output here and ends with its exit code.
      const file = join(stateDir, 'attached.out');
      const out = createWriteStream(file);
      const p = lab.shell('b').spawn(['sh', '-c', 'ip -o -4 addr show eth0; exit 4'], { stdout: out });
      const pid = await p.started!;
      assert.ok(attach(name, stateDir).snapshot.processes.some((r) => r.host === 'h3' && r.pid === pid), 'recorded with its host while it runs');
      assert.equal(await p.exited, 4);
      await new Promise((r) => out.end(r));
      assert.match(readFileSync(file, 'utf8'), /inet 10\.3\.0\.2\/24/);
      await sleep(50);
      assert.ok(!attach(name, stateDir).snapshot.processes.some((r) => r.host === 'h3' && r.pid === pid), 'forgotten once it ended');
      // inspect: each node's host, how each host is reached, its tunnel ends, its clock offset now
      const inspect = JSON.parse(warplab('inspect', name, '--json').stdout);
      assert.deepEqual(inspect.nodes.map((n: { name: string; host: string }) => `${n.name}@${n.host}`), ['a@h1', 'r1@h1', 'r2@h2', 'r3@h3', 'b@h3', 'mgmt@h2']);
      assert.deepEqual(inspect.hosts.map((h: { route: string }) => h.route), ['root@10.99.0.11:22 via ProxyCommand', 'root@10.99.0.12:22 via ProxyCommand', 'root@10.99.0.13:22 via ProxyCommand']);
      assert.equal(inspect.tunnels.length, 7);
      assert.deepEqual(inspect.clock.offsets.map((o: { of: string }) => o.of), ['host h1', 'host h2', 'host h3']);
    } finally {
      await lab.down();
    }
    await nothingLeft(name, lab.mark);
  });

  it("the ICOIN 2011 lab over three hosts without its VM: translators on R1 and R3 on different hosts, the model's reachability", async () => {
    // The file names its client host by an ssh_config alias (ssh-config: client).
    process.env.WARPLAB_SSH_CONFIG = withClientAlias();
    const t = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml'));
    const name = testName('icoin3');
    try {
      const lab = await up({ ...t, name }, { stateDir, workloads: false });
      try {
        assert.deepEqual(['R1', 'R2', 'R3', 'U'].map((n) => `${n}@${lab.topology.nodes.find((x) => x.name === n)!.host}`), ['R1@pdc', 'R2@adc', 'R3@client', 'U@client']);
        const rows = await reachability(lab);
        assert.deepEqual(rows.filter((r) => r.observed !== r.predicted), []);
        assert.deepEqual(Object.fromEntries(rows.map((r) => [`${r.from}-${r.to}`, r.observed])), { 'pdc-hv-adc-hv': false, 'pdc-hv-U': true, 'adc-hv-pdc-hv': false, 'adc-hv-U': true, 'U-pdc-hv': true, 'U-adc-hv': true });
        const c = (await translatorStatus(lab, 'R3')).counters;
        assert.ok(c.translated_from_lan! > 0, `R3 on client translated U's pings: ${JSON.stringify(c)}`);
      } finally {
        await lab.down();
      }
      for (const h of ['h1', 'h2', 'h3']) assert.deepEqual(await leftOn(h, name), [], `nothing of ${name} left on ${h}`);
    } finally {
      process.env.WARPLAB_SSH_CONFIG = rig!.sshConfig;
      closeSshConnections();
    }
  });

  it('`warplab run` of the ICOIN 2011 VM migration across three hosts: QEMU on pdc moves to adc, the watcher there switches R3 on client; clocks in the report; nothing left', async () => {
    const out = join(stateDir, 'icoin-run');
    const name = testName('icoin3vm');
    const res = spawnSync(process.execPath, [bin, 'run', join(packageRoot, 'topologies', 'scenarios', 'icoin2011-vm-migration-3hosts.yaml'), '--repeat', '2', '--lab', name, '--out', out], { encoding: 'utf8', env: { ...env(), WARPLAB_SSH_CONFIG: withClientAlias() } });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const run = JSON.parse(readFileSync(join(out, 'scenario.json'), 'utf8'));
    const moves = run.steps.filter((x: any) => x.details?.driver === 'qemu');
    assert.deepEqual(moves.map((m: any) => `${m.details.from}→${m.details.to}`), ['pdc-hv→adc-hv', 'adc-hv→pdc-hv', 'pdc-hv→adc-hv', 'adc-hv→pdc-hv'], 'each trial moved the VM and back');
    for (const m of moves) {
      // The destination's watcher switched R3 on another host itself (through its relay socket), not warplab's fallback.
      assert.equal(m.details.switchedBy, 'watcher', JSON.stringify(m.details));
      assert.ok(m.details.figures.transferredBytes > 0 && m.details.announceToSwitchedMs > 0, JSON.stringify(m.details));
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const h of ['pdc', 'adc', 'client']) assert.match(md, new RegExp(`- host ${h}: offset -?[\\d.]+ ms ± [\\d.]+ ms`));
    for (const f of ['vm-a-to-U', 'U-echo-vm-a']) assert.ok(existsSync(join(out, 'raw', `trial-1-${f}.bin`)), `the ${f} stream was recorded at U`);
    // The hypervisors' logs were read from their hosts into the run directory.
    assert.match(readFileSync(join(out, 'raw', 'workloads', 'vm-a', 'pdc-hv.serial.log'), 'utf8'), /warplab-guest: ready/);
    assert.ok(existsSync(join(out, 'raw', 'workloads', 'vm-a', 'adc-hv.qemu.log')));
    for (const h of ['h1', 'h2', 'h3']) assert.deepEqual(await leftOn(h, name, `warplab:${name}:`), [], `nothing of ${name} left on ${h}`);
  });

  // The shipped two-DC files, their DC sides on pdc and adc, the rest round robin over the three hosts.
  for (const c of [
    { file: 'service-switching-two-dc.yaml', strategy: 'service-switching', was: 'ss2dc', prefix: 'ss', mtu: 1500, what: 'the watcher on adc says `go` to listeners on other hosts through relays; the switches NAT, proxy-ARP and announce there' },
    // Its WAN links carry 1550-byte frames (the overlay's 1500 + 50): over VXLAN between hosts that takes 1600.
    { file: 'l2-overlay-two-dc.yaml', strategy: 'l2-overlay', was: 'l2ov', prefix: 'l2', mtu: 9000, what: 'VXLAN between the DC gateways on two hosts inside a lab that itself runs over VXLAN; the watcher moves the MAC in both VTEPs' },
    { file: 'routing-update-two-dc.yaml', strategy: 'routing-update', was: 'rtupd', prefix: 'ru', mtu: 1500, what: 'BIRD on every router, on three hosts, BGP sessions over the tunnels; the watcher has ADC\'s gateway announce the /32 and PDC\'s withdraw it' },
  ]) {
    it(`${c.strategy} across hosts: ${c.what}`, async () => {
      const name = testName(`${c.was}3`);
      const topo = join(stateDir, `${c.was}3.yaml`);
      const host = (address: string, labels = '') => `{address: ${address}, underlay-mtu: ${c.mtu}${labels}}`;
      const hosts = `hosts:\n  pdc: ${host('10.99.0.11', ', labels: {dc: PDC}')}\n  adc: ${host('10.99.0.12', ', labels: {dc: ADC}')}\n  client: ${host('10.99.0.13')}\nplacement: {by-label: dc}`;
      writeFileSync(topo, readFileSync(join(packageRoot, 'topologies', c.file), 'utf8').replace(new RegExp(`^name: ${c.was}$`, 'm'), `name: ${name}\n${hosts}`));
      const scenario = join(stateDir, `${c.was}3.scenario.yaml`);
      writeFileSync(scenario, [`name: ${c.was}-3hosts`, `topology: ${c.was}3.yaml`, 'repeat: 1', 'streams: [{workload: vm-a, echo-interval-ms: 10}]', 'steps:', '  - wait: 500ms', '  - migrate: {workload: vm-a, to: adc-hv}', '  - wait: 1s', 'reset:', '  - migrate: {workload: vm-a, to: pdc-hv}', 'thresholds:', '  - max-downtime-ms: 3000', ''].join('\n'));
      const out = join(stateDir, `${c.was}3-run`);
      const res = warplab('run', scenario, '--out', out);
      assert.equal(res.status, 0, res.stdout + res.stderr);
      const moves = JSON.parse(readFileSync(join(out, 'scenario.json'), 'utf8')).steps.filter((x: any) => x.details?.strategy === c.strategy);
      assert.equal(moves.length, 2);
      for (const m of moves) assert.equal(m.details.switchedBy, 'watcher', JSON.stringify(m.details));
      // The listeners' logs were read from their hosts into the run directory.
      assert.ok(readdirSync(join(out, 'raw', 'workloads', 'vm-a')).some((f) => f.startsWith(`${c.prefix}-`) && f.endsWith('.log')), readdirSync(join(out, 'raw', 'workloads', 'vm-a')).join(' '));
      for (const h of ['h1', 'h2', 'h3']) assert.deepEqual(await leftOn(h, name, `warplab:${name}:`), [], `nothing of ${name} left on ${h}`);
    });
  }

  it('SIGKILL of `warplab migrate` across hosts while the destination QEMU waits: down leaves nothing on any host', async () => {
    process.env.WARPLAB_SSH_CONFIG = withClientAlias();
    const name = testName('icoin3k');
    try {
      const t = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml'));
      const lab = await up({ ...t, name }, { stateDir });
      const child = spawn(process.execPath, [bin, 'migrate', name, 'vm-a', '--to', 'adc-hv'], { env: { ...env(), WARPLAB_SSH_CONFIG: process.env.WARPLAB_SSH_CONFIG }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      // Killed once the incoming QEMU on adc (h2) has its QMP socket: mid-move.
      const qmp = `${hostLabDir(name)}/workloads/vm-a/adc-hv.qmp`;
      for (const deadline = Date.now() + 60_000; (await hostShell('h2').exec(['test', '-S', qmp], { check: false })).exitCode !== 0; await sleep(20)) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the destination QEMU never listened: ${err}`);
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const res = spawnSync(process.execPath, [bin, 'down', name], { encoding: 'utf8', env: { ...env(), WARPLAB_SSH_CONFIG: process.env.WARPLAB_SSH_CONFIG } });
      assert.equal(res.status, 0, res.stderr);
      await nothingLeft(name, lab.mark);
    } finally {
      process.env.WARPLAB_SSH_CONFIG = rig!.sshConfig;
      closeSshConnections();
    }
  });

  it('a translator agent on another host: sent there by SFTP, asked through a forwarded socket, switched live', async () => {
    const name = testName('xlate3');
    const t = { ...(await loadTopologyFile(join(fixtures, 'hosts', 'translator-3hosts.yaml'))), name };
    const lab = await up(t, { stateDir });
    try {
      /** Source address b sees for a's ping. */
      const seenAtB = async () => {
        const dump = lab.shell('b').exec(['tcpdump', '-n', '-l', '-c', '1', '-i', 'eth0', 'icmp[icmptype] = icmp-echo'], { timeoutMs: 10_000, check: false });
        await sleep(700); // tcpdump needs a moment to attach
        await lab.shell('a').exec(['ping', '-n', '-c2', '-W1', '10.0.2.2']);
        return /IP (\S+) > /.exec((await dump).stdout)?.[1];
      };
      assert.equal(await seenAtB(), '150.1.0.2');
      const status = await translatorStatus(lab, 'r');
      assert.ok(status.rules.includes('page 10.0.1.2/32 wan 150.1.0.2/32 contiguous'), status.rules.join('\n'));
      assert.ok(status.counters.translated_from_lan! >= 2);
      assert.equal((await hostShell('h2').exec(['test', '-x', `${hostLabDir(name)}/files/xlate-agent`], { check: false })).exitCode, 0, 'the agent was placed on h2');
      assert.notEqual((await hostShell('h1').exec(['test', '-e', `${hostLabDir(name)}/files`], { check: false })).exitCode, 0, 'and only there');
      const sw = await switchPage(lab, 'r', '10.0.1.2', '150.2.0.2/32');
      assert.ok(sw.roundTripMs > 0 && sw.kernelUs >= 0);
      assert.equal(await seenAtB(), '150.2.0.2');
    } finally {
      await lab.down();
    }
    await nothingLeft(name, lab.mark);
  });

  it('`warplab run`: a 1 ms stream across three hosts, a translator switched live twice; the report gives each host\'s clock offset', async () => {
    const out = join(stateDir, 'run');
    const res = warplab('run', join(fixtures, 'hosts', 'switch-3hosts.scenario.yaml'), '--lab', testName('sw3'), '--out', out);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const clock = JSON.stringify(report);
    for (const h of ['h1', 'h2', 'h3']) assert.match(clock, new RegExp(`"of":"host ${h}","offsetMs":-?[\\d.e-]+,"uncertaintyMs":[\\d.e-]+`));
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Clocks[\s\S]*- host h3: offset -?[\d.]+ ms ± [\d.]+ ms \(shortest of 20 ping-pongs/);
    assert.equal((clock.match(/"clockOffsetMs":/g) ?? []).length, 2, "each trial's stream carries its receiver host's offset");
    await nothingLeft(testName('sw3'));
  });

  it('after SIGKILL of `up`, down removes everything from the state alone, on every host', async () => {
    const name = testName('span3-k');
    const file = join(stateDir, 'killed.yaml');
    writeFileSync(file, readFileSync(join(fixtures, 'hosts', 'span-3hosts.yaml'), 'utf8').replace('name: span3', `name: ${name}`));
    const child = spawn(process.execPath, [bin, 'up', file, '--json'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    // Killed once the tunnels are being made: namespaces and veths exist, nothing is configured.
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(stateDir, 'labs', name, 'state.json')) || !readFileSync(join(stateDir, 'labs', name, 'state.json'), 'utf8').includes('"tunnel"')) {
      assert.ok(Date.now() < deadline, `up never recorded its tunnels: ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const state = attach(name, stateDir).snapshot;
    assert.equal(state.status, 'creating');
    const res = warplab('down', name);
    assert.equal(res.status, 0, res.stderr);
    await nothingLeft(name, state.mark);
  });

  it('Ctrl-C during `up` removes what was made on every host and exits 130', async () => {
    const name = testName('chain3-i');
    const file = join(stateDir, 'irq.yaml');
    writeFileSync(file, chainTopologyYaml(60, name, rig!.hosts.map((h) => ({ name: h.name, address: h.address }))));
    const child = spawn(process.execPath, [bin, 'up', file], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const state = join(stateDir, 'labs', name, 'state.json');
    const deadline = Date.now() + 30_000;
    while (!existsSync(state) || !readFileSync(state, 'utf8').includes('"netns"')) {
      assert.ok(Date.now() < deadline, `up never recorded its namespaces: ${err}`);
      await sleep(5);
    }
    const mark = attach(name, stateDir).mark;
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 130, `exit ${code}: ${err}`);
    assert.match(err, /SIGINT: stopping and removing what was made/);
    await nothingLeft(name, mark);
  });

  it('a host that does not answer keeps its records; a later down finishes the job', async () => {
    const name = testName('span3-u');
    const lab = await up({ ...topology, name }, { stateDir });
    // h3 unreachable: its ProxyCommand leads nowhere. Nothing else changes.
    const cut = join(rig!.dir, 'ssh_config.cut');
    writeFileSync(cut, readFileSync(rig!.sshConfig, 'utf8').replace(/h3\.sock/, 'nowhere.sock'));
    const res = spawnSync(process.execPath, [bin, 'down', name], { encoding: 'utf8', env: { ...env(), WARPLAB_SSH_CONFIG: cut } });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /could not reach a host; what the lab made there stays recorded: run `warplab down span3-u.*` again once it answers\.\n {2}h3: /);
    assert.deepEqual(await leftOn('h1', name), [], 'h1 was cleaned meanwhile');
    assert.ok((await leftOn('h3', name)).length > 0, 'h3 still has the lab');
    assert.ok(existsSync(join(stateDir, 'labs', name, 'state.json')), 'the state stays');
    assert.deepEqual((await down(name, stateDir)).filter((r) => r.includes('on h3')).length > 0, true);
    await nothingLeft(name, lab.mark);
  });

  it('refuses a topology with hosts on a substrate that builds here, and one without hosts on ssh, before making anything', async () => {
    const res = warplab('up', join(fixtures, 'hosts', 'span-3hosts.yaml'), '-s', 'netns');
    assert.equal(res.status, 1);
    assert.match(res.stderr, /places its nodes on hosts \(h1, h2, h3\); netns builds on this machine only: use -s ssh/);
    const local = join(stateDir, 'local.yaml');
    writeFileSync(local, 'name: local\nnodes: {a: {kind: host}}\n');
    const res2 = warplab('up', local, '-s', 'ssh');
    assert.equal(res2.status, 1);
    assert.match(res2.stderr, /the ssh substrate places nodes on the topology's hosts, and local declares none/);
  });
});
