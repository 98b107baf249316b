// `up --dry-run`: the build as data, per machine and namespace, with nothing made (no root).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { NetnsSubstrate } from '../../substrate/netns/netns.js';
import { SshSubstrate } from '../../substrate/ssh/ssh.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { fixtures, removeDir } from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');

describe('up --dry-run', () => {
  it('netns: namespaces, veths made inside them, then each node configured, as exact commands', () => {
    const t = parseTopology('name: two\nnodes:\n  a: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}\n  b: {kind: router, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}\nlinks: [a:eth0 -- b:eth0]\n');
    const steps = new NetnsSubstrate().plan(t, '0000abcd');
    assert.deepEqual(steps.map((s) => `${s.where}: ${s.what}`), ['this machine: namespaces', 'this machine: veths, both ends made in their namespaces', 'netns wl-two-a: configure a', 'netns wl-two-b: configure b']);
    assert.deepEqual(steps[1]!.commands, ['ip link add eth0 netns wl-two-a type veth peer name eth0 netns wl-two-b']);
    assert.deepEqual(steps[3]!.commands, [
      'sysctl -w net.ipv6.conf.all.disable_ipv6=1',
      'sysctl -w net.ipv6.conf.default.disable_ipv6=1',
      'sysctl -w net.ipv4.ip_forward=1',
      'ip link set lo alias warplab:two:0000abcd',
      'ip link set lo up',
      'ip link set dev eth0 alias warplab:two:0000abcd',
      'ip addr add 10.0.0.2/24 dev eth0',
      'ip link set dev eth0 up',
    ]);
  });

  it('ssh: per host its directory, namespaces, veths and tunnels, then its nodes; VNIs from the lab id', async () => {
    const t = await loadTopologyFile(join(fixtures, 'hosts', 'translator-3hosts.yaml'));
    const steps = new SshSubstrate().plan(t, '00000000');
    assert.deepEqual(steps.map((s) => `${s.where}: ${s.what}`), [
      'host h1: lab directory and namespaces (a)', 'host h1: veths and VXLAN tunnels', 'host h1, netns wl-xlate3-a: configure a',
      'host h2: lab directory and namespaces (r)', 'host h2: veths and VXLAN tunnels', 'host h2, netns wl-xlate3-r: configure r',
      'host h3: lab directory and namespaces (b)', 'host h3: veths and VXLAN tunnels', 'host h3, netns wl-xlate3-b: configure b',
    ]);
    assert.equal(steps[4]!.commands[0], 'ip link add wlvx4096 mtu 1450 type vxlan id 4096 local 10.99.0.12 remote 10.99.0.11 dstport 4789 nolearning');
  });

  it('the CLI prints the plan as JSON and makes nothing; docker says why it cannot', () => {
    const state = mkdtempSync(join(tmpdir(), 'wl-dry-'));
    try {
      const env = { ...process.env, WARPLAB_STATE_DIR: state };
      const r = spawnSync(process.execPath, [bin, 'up', join(packageRoot, 'topologies', 'icoin2011-paging.yaml'), '--dry-run', '--json'], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      const plan = JSON.parse(r.stdout);
      assert.equal(plan.substrate, 'netns');
      assert.deepEqual(plan.then, ['translators', 'workloads']);
      assert.ok(plan.steps.length > 10);
      assert.ok(!existsSync(join(state, 'labs', 'icoin')), 'no lab recorded');
      const d = spawnSync(process.execPath, [bin, 'up', join(packageRoot, 'topologies', 'icoin2011-paging.yaml'), '--dry-run', '-s', 'docker'], { encoding: 'utf8', env });
      assert.equal(d.status, 1);
      assert.match(d.stderr, /--dry-run: the docker substrate cannot print its plan/);
    } finally {
      removeDir(state);
    }
  });
});
