import { strict as assert } from 'node:assert';
import type { LabState } from '../../lab/state.js';
import { MininetSubstrate } from '../../substrate/mininet/mininet.js';
import { buildRequest, lanPortName } from '../../substrate/mininet/plan.js';
import { getSubstrate } from '../../substrate/registry.js';
import { parseTopology } from '../../topology/load.js';
import { RecordingShell } from '../helpers.js';

const t = parseTopology(`
name: plan
nodes:
  h: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}, routes: [{to: default, via: 10.0.0.1}]}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.0.0.1/24}, eth1: {ipv4: 10.0.1.1/24}}}
  s: {kind: lan}
  a-very-long-lan: {kind: lan}
  k: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}, eth1: {ipv4: 10.0.2.2/24}}}
links:
  - {a: "h:eth0", b: "r:eth0", mtu: 1400}
  - {a: "r:eth1", b: s, bw: 10}
  - k:eth0 -- s
  - k:eth1 -- a-very-long-lan
`);

const sysctl = 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; ';

describe('mininet substrate: the build request', () => {
  it('hosts and routers become Mininet hosts configured like netns nodes; lans become switches', () => {
    const req = buildRequest(t, 'warplab:plan:ab', 'lxbr');
    assert.deepEqual(req.nodes.map((n) => [n.name, n.kind]), [['h', 'node'], ['r', 'node'], ['s', 'lan'], ['a-very-long-lan', 'lan'], ['k', 'node']]);
    assert.deepEqual(req.links, [
      { a: { node: 'h', ifname: 'eth0' }, b: { node: 'r', ifname: 'eth0' } },
      { a: { node: 'r', ifname: 'eth1' }, b: { node: 's', ifname: 's.1' } },
      { a: { node: 'k', ifname: 'eth0' }, b: { node: 's', ifname: 's.2' } },
      { a: { node: 'k', ifname: 'eth1' }, b: { node: 'a-very-long-lan', ifname: 'lan.1.1' } },
    ]);
    const r = req.nodes[1]!;
    // A router: forwarding on; the link's MTU first, then the netns substrate's own lines; tc after.
    assert.equal(r.script, `${sysctl}echo 1 > /proc/sys/net/ipv4/ip_forward; ip -batch -\ntc qdisc add dev eth1 root handle 5: htb default 1\ntc class add dev eth1 parent 5: classid 5:1 htb rate 10mbit burst 15k`);
    assert.deepEqual(r.batch.split('\n').slice(0, 4), ['link set dev eth0 mtu 1400', 'link set lo alias warplab:plan:ab', 'link set lo up', 'link set dev eth0 alias warplab:plan:ab']);
    assert.equal(req.nodes[0]!.script, `${sysctl}echo 0 > /proc/sys/net/ipv4/ip_forward; exec ip -batch -`);
    assert.match(req.nodes[0]!.batch, /^link set dev eth0 mtu 1400\n.*route add default via 10\.0\.0\.1 proto static\n$/s);
    const s = req.nodes[2]!;
    assert.equal(s.script, 'ip -batch -\ntc qdisc add dev s.1 root handle 5: htb default 1\ntc class add dev s.1 parent 5: classid 5:1 htb rate 10mbit burst 15k');
    assert.equal(s.batch, ['link set dev lo alias warplab:plan:ab', 'link set dev lo up', 'link set dev s.1 alias warplab:plan:ab', 'link set dev s.1 up', 'link set dev s.2 alias warplab:plan:ab', 'link set dev s.2 up', ''].join('\n'));
  });

  it('on Open vSwitch, every veth touching a switch sends with checksums computed', () => {
    const req = buildRequest(t, 'm', 'ovs');
    assert.match(req.nodes[1]!.script, /ethtool -K eth1 tx off >\/dev\/null; ip -batch -/);
    assert.doesNotMatch(req.nodes[1]!.script, /ethtool -K eth0/);
    assert.match(req.nodes[2]!.script, /^ethtool -K s\.1 tx off >\/dev\/null; ethtool -K s\.2 tx off >\/dev\/null; ip -batch -/);
    assert.match(req.nodes[4]!.script, /ethtool -K eth0 tx off >\/dev\/null; ethtool -K eth1 tx off >\/dev\/null; exec ip -batch -$/);
  });

  it('lan port names are unique in the shared namespace and fit 15 characters', () => {
    assert.equal(lanPortName('PDC', 0, 3), 'PDC.3');
    assert.equal(lanPortName('abcdefghijklmn', 4, 12), 'lan.4.12');
  });
});

describe('mininet substrate: capabilities, shells and state', () => {
  it('is registered; an unknown substrate lists the supported ones', () => {
    assert.equal(getSubstrate('mininet').name, 'mininet');
    assert.throws(() => getSubstrate('mininit'), /substrate "mininit" is not supported. Supported substrates are "netns", "mininet"/);
  });

  it('says what to install when Mininet is missing', async () => {
    const host = new RecordingShell((argv) => (argv[0] === 'sh' ? { stdout: 'mnexec mininet\nmininet\n' } : {}));
    const m = await new MininetSubstrate({ host, python: '/usr/bin/python3', switch: 'lxbr' }).missing(t);
    if (process.getuid?.() === 0) assert.equal(m.length, 2);
    assert.ok(m.includes('mnexec is missing: apt-get install mininet (or run bash ci/setup.sh)'), m.join('\n'));
    assert.ok(m.includes('Mininet is not installed: /usr/bin/python3 cannot import mininet; apt-get install mininet (or run bash ci/setup.sh)'), m.join('\n'));
  });

  it('checks Open vSwitch only when lans run on it, and rejects an unknown switch', async () => {
    const host = new RecordingShell(() => ({ stdout: '' }));
    await new MininetSubstrate({ host, switch: 'ovs' }).missing(t);
    assert.match(host.calls[0]!.argv[2]!, /command -v ovs-vswitchd/);
    const lxbr = new RecordingShell(() => ({ stdout: '' }));
    await new MininetSubstrate({ host: lxbr, switch: 'lxbr' }).missing(t);
    assert.doesNotMatch(lxbr.calls[0]!.argv[2]!, /ovs/);
    const bad = await new MininetSubstrate({ host: lxbr, switch: 'ovs-kernel' }).missing(t);
    assert.ok(bad.some((x) => /Mininet switch "ovs-kernel" is not supported. Supported switches are "lxbr" \(Linux bridge\), "ovs"/.test(x)), bad.join('\n'));
  });

  it('a node Shell enters the recorded namespace by path, and refuses once its PID no longer carries the mark', async () => {
    const state = {
      version: 1, name: 'plan', id: 'ab', mark: 'warplab:plan:ab', substrate: 'mininet', status: 'up', createdAt: '', topology: t, processes: [],
      objects: [
        { kind: 'netns', name: 'mininet-sandbox', node: '', netns: '/proc/999999/ns/net' },
        { kind: 'netns', name: 'mininet-node', node: 'h', netns: '/proc/999998/ns/net' },
      ],
    } as LabState;
    const m = new MininetSubstrate();
    const sh = m.shell(state, 'h');
    assert.match(sh.where, /^h \(mininet node, pid 999998\)$/);
    await assert.rejects(sh.exec(['true']), /node h: its Mininet namespace \(pid 999998\) is gone/);
    assert.throws(() => m.shell(state, 'r'), /lab plan has no Mininet node "r" recorded/);
    // Nothing of it runs any more (and PID 999999 carries no mark): down has nothing to kill.
    assert.deepEqual(await m.destroy(state), []);
  });
});
