import { strict as assert } from 'node:assert';
import type { LabState } from '../../lab/state.js';
import { NetnsSubstrate } from '../../substrate/netns/netns.js';
import { parseTopology } from '../../topology/load.js';
import { RecordingShell } from '../helpers.js';

const t = parseTopology(`
name: plan
nodes:
  h: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24, mac: "02:00:00:00:00:02"}}, routes: [{to: default, via: 10.0.0.1}]}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.0.0.1/24, mtu: 1400}, eth1: {ipv4: 10.0.1.1/24}}}
  s: {kind: lan}
  k: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}}}
links:
  - h:eth0 -- r:eth0
  - r:eth1 -- s
  - k:eth0 -- s
`);

function state(): LabState {
  return { version: 1, name: 'plan', id: 'abcd', mark: 'warplab:plan:abcd', substrate: 'netns', status: 'creating', createdAt: '', topology: t, objects: [], processes: [] };
}

describe('netns substrate command lines', () => {
  it('creates namespaces, veths inside them, then configures each node', async () => {
    const shell = new RecordingShell();
    const recorded: string[] = [];
    await new NetnsSubstrate(shell).create(t, { state: state(), path: '/nonexistent', record: (o) => recorded.push(...o.map((x) => `${x.kind}:${x.netns ?? ''}/${x.name}`)), progress: () => {} });

    assert.deepEqual(shell.calls[0], { argv: ['ip', 'netns', 'list'] });
    assert.deepEqual(shell.calls[1], { argv: ['ip', '-batch', '-'], input: 'netns add wl-plan-h\nnetns add wl-plan-r\nnetns add wl-plan-s\nnetns add wl-plan-k\n' });
    assert.deepEqual(shell.calls[2], {
      argv: ['ip', '-batch', '-'],
      input:
        'link add eth0 netns wl-plan-h type veth peer name eth0 netns wl-plan-r\n' +
        'link add eth1 netns wl-plan-r type veth peer name port1 netns wl-plan-s\n' +
        'link add eth0 netns wl-plan-k type veth peer name port2 netns wl-plan-s\n',
    });
    const byNs = new Map(shell.calls.slice(3).map((c) => [c.argv[1], c]));
    const sysctl = 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; ';
    assert.deepEqual(byNs.get('--net=/run/netns/wl-plan-r'), {
      argv: ['nsenter', '--net=/run/netns/wl-plan-r', '--', 'sh', '-ec', `${sysctl}echo 1 > /proc/sys/net/ipv4/ip_forward; exec ip -batch -`],
      input: [
        'link set lo alias warplab:plan:abcd', 'link set lo up',
        'link set dev eth0 mtu 1400', 'link set dev eth0 alias warplab:plan:abcd', 'addr add 10.0.0.1/24 dev eth0', 'link set dev eth0 up',
        'link set dev eth1 alias warplab:plan:abcd', 'addr add 10.0.1.1/24 dev eth1', 'link set dev eth1 up', '',
      ].join('\n'),
    });
    assert.deepEqual(byNs.get('--net=/run/netns/wl-plan-h')!.input!.split('\n').slice(2), [
      'link set dev eth0 address 02:00:00:00:00:02', 'link set dev eth0 alias warplab:plan:abcd', 'addr add 10.0.0.2/24 dev eth0', 'link set dev eth0 up',
      'route add default via 10.0.0.1 proto static', '',
    ]);
    assert.match(byNs.get('--net=/run/netns/wl-plan-h')!.argv[5]!, /echo 0 > \/proc\/sys\/net\/ipv4\/ip_forward/);
    assert.deepEqual(byNs.get('--net=/run/netns/wl-plan-s')!.input!.split('\n').slice(2), [
      'link add br0 type bridge', 'link set br0 alias warplab:plan:abcd', 'link set br0 up',
      'link set port1 alias warplab:plan:abcd', 'link set port1 master br0', 'link set port1 up',
      'link set port2 alias warplab:plan:abcd', 'link set port2 master br0', 'link set port2 up', '',
    ]);
    // Recorded before being made: every namespace, and both ends of every veth.
    assert.deepEqual(recorded.slice(0, 4), ['netns:/wl-plan-h', 'netns:/wl-plan-r', 'netns:/wl-plan-s', 'netns:/wl-plan-k']);
    assert.equal(recorded.length, 4 + 6);
  });

  it('refuses to touch namespaces it did not make', async () => {
    const shell = new RecordingShell((argv) => (argv.join(' ') === 'ip netns list' ? { stdout: 'wl-plan-r (id: 3)\nother\n' } : {}));
    await assert.rejects(
      new NetnsSubstrate(shell).create(t, { state: state(), path: '/nonexistent', record: () => {}, progress: () => {} }),
      /namespaces already exist and were not made by this lab: wl-plan-r; nothing was changed/,
    );
    assert.equal(shell.calls.length, 1);
  });

  it('destroys only namespaces carrying the lab mark', async () => {
    const s = { ...state(), status: 'up' as const, objects: ['h', 'r', 'k'].map((n) => ({ kind: 'netns' as const, name: `wl-plan-${n}`, node: n })) };
    const shell = new RecordingShell((argv) => {
      const cmd = argv.join(' ');
      if (cmd === 'ip -n wl-plan-h -o link show lo') return { stdout: '1: lo: <LOOPBACK,UP> mtu 65536 alias warplab:plan:abcd' };
      if (cmd === 'ip -n wl-plan-r -o link show lo') return { stdout: '1: lo: <LOOPBACK,UP> mtu 65536 alias warplab:plan:OTHER' };
      if (cmd === 'ip -n wl-plan-k -o link show lo') return { exitCode: 1, stderr: 'Cannot open network namespace' };
      if (cmd === 'ip netns pids wl-plan-h') return { stdout: '' };
      return {};
    });
    const removed = await new NetnsSubstrate(shell).destroy(s);
    assert.deepEqual(removed, ['netns wl-plan-h']);
    assert.deepEqual(shell.calls.at(-1), { argv: ['ip', '-force', '-batch', '-'], input: 'netns del wl-plan-h\n' });
  });
});
