import { strict as assert } from 'node:assert';
import type { LabState } from '../../lab/state.js';
import { linkParamsMissing, missingQdiscs, qdiscsFor, tcArgv } from '../../substrate/netns/linkparams.js';
import { NetnsSubstrate } from '../../substrate/netns/netns.js';
import { TopologyError } from '../../errors.js';
import { parseTopology } from '../../topology/load.js';
import { RecordingShell } from '../helpers.js';

const yaml = (link: string) => `
name: shaped
nodes:
  h: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.0.0.1/24}, eth1: {ipv4: 10.0.1.1/24}}}
  s: {kind: lan}
  k: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}}}
links:
  - ${link}
  - {a: "r:eth1", b: s, max_queue_size: 50}
  - k:eth0 -- s
`;

function errors(text: string): string {
  try {
    parseTopology(text, 'x.yaml');
  } catch (e) {
    if (e instanceof TopologyError) return e.message;
    throw e;
  }
  return '';
}

describe('link parameters (bw, delay, loss, max_queue_size)', () => {
  it('the loader reads them into the link; terse links have none', () => {
    const t = parseTopology(yaml('{a: "h:eth0", b: "r:eth0", bw: 10, delay: 5ms, loss: 1.5, max_queue_size: 100}'));
    assert.deepEqual(t.links[0]!.params, { bw: 10, delay: '5ms', loss: 1.5, maxQueueSize: 100 });
    assert.deepEqual(t.links[1]!.params, { maxQueueSize: 50 });
    assert.equal(t.links[2]!.params, undefined);
  });

  it('bad values are reported with file:line:col and what is expected', () => {
    const msg = errors(yaml('{a: "h:eth0", b: "r:eth0", delay: 5, loss: 150, bw: 0, max_queue_size: 1.5, jitter: 1ms}'));
    assert.match(msg, /x\.yaml:9:81: links\[0\]\.jitter: unknown key "jitter"\n {4}expected: one of the keys a, b, mtu, bw, delay, loss, max_queue_size, labels/);
    assert.match(msg, /x\.yaml:9:\d+: links\[0\]\.loss: invalid value\n {4}expected: a number <= 100/);
    assert.match(msg, /x\.yaml:9:\d+: links\[0\]\.bw: invalid value\n {4}expected: must be > 0/);
    assert.match(msg, /x\.yaml:9:\d+: links\[0\]\.max_queue_size: invalid value\n {4}expected: must be multiple of 1/);
    assert.match(errors(yaml('{a: "h:eth0", b: "r:eth0", delay: 5}')), /x\.yaml:9:39: links\[0\]\.delay: delay 5 has no unit\n {4}hint: write 5ms/);
    assert.match(errors(yaml('{a: "h:eth0", b: "r:eth0", delay: 5 ms}')), /links\[0\]\.delay: invalid value "5 ms"\n.*\n {4}hint: a time with its unit: 10ms/);
  });

  it('translate into tc commands as Mininet TCLink does (htb for bw, netem below it)', () => {
    assert.deepEqual(tcArgv('eth0', { bw: 10 }), [
      ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '5:', 'htb', 'default', '1'],
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '5:', 'classid', '5:1', 'htb', 'rate', '10mbit', 'burst', '15k'],
    ]);
    assert.deepEqual(tcArgv('eth1', { delay: '10ms', loss: 2 }), [['tc', 'qdisc', 'add', 'dev', 'eth1', 'root', 'handle', '10:', 'netem', 'delay', '10ms', 'loss', '2%']]);
    assert.deepEqual(tcArgv('eth0', { bw: 0.5, delay: '1.5ms', maxQueueSize: 20 }).slice(1), [
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '5:', 'classid', '5:1', 'htb', 'rate', '0.5mbit', 'burst', '15k'],
      ['tc', 'qdisc', 'add', 'dev', 'eth0', 'parent', '5:1', 'handle', '10:', 'netem', 'delay', '1.5ms', 'limit', '20'],
    ]);
    // Without delay or loss, a queue limit needs no netem: a pfifo does it.
    assert.deepEqual(tcArgv('eth0', { maxQueueSize: 50, loss: 0 }), [['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '10:', 'pfifo', 'limit', '50']]);
    assert.deepEqual(tcArgv('eth0', undefined), []);
    assert.deepEqual([...qdiscsFor({ bw: 1, loss: 1, maxQueueSize: 5 })], [['htb', ['bw']], ['netem', ['loss', 'max_queue_size']]]);
  });

  it('the kernel is probed in a throwaway namespace; a missing qdisc names the link and the kernel feature', async () => {
    const t = parseTopology(yaml('{a: "h:eth0", b: "r:eth0", bw: 10, delay: 5ms}'));
    const host = new RecordingShell((argv) => (argv[0] === 'unshare' ? { stdout: 'have htb\nhave pfifo\n' } : {}));
    const problems = await linkParamsMissing(t, host);
    assert.equal(host.calls.length, 1);
    assert.deepEqual(host.calls[0]!.argv.slice(0, 3), ['unshare', '--net', 'sh']);
    assert.match(host.calls[0]!.argv[4]!, /tc qdisc add dev wlprobe0 root handle 1: netem delay 1ms/);
    assert.deepEqual(problems, [
      'link h:eth0 -- r:eth0 (links[0]): delay needs the netem qdisc, which this kernel lacks (kernel option CONFIG_NET_SCH_NETEM, module sch_netem); ' +
        'remove delay from the link or use a kernel with netem — warplab never leaves a link silently unshaped',
    ]);
    assert.deepEqual(await missingQdiscs(new RecordingShell(() => ({ stdout: 'have netem\n' })), ['netem']), { missing: [] });
    const broken = await missingQdiscs(new RecordingShell(() => ({ exitCode: 3, stderr: 'RTNETLINK answers: Operation not permitted' })), ['htb']);
    assert.match(broken.error!, /Operation not permitted/);
  });

  it('a topology without parameters costs no probe', async () => {
    const host = new RecordingShell();
    assert.deepEqual(await linkParamsMissing(parseTopology(yaml('h:eth0 -- r:eth0').replace(/\n.*max_queue_size: 50}/, '\n  - r:eth1 -- s')), host), []);
    assert.equal(host.calls.length, 0);
  });

  it('the netns substrate shapes both ends, the lan side on its bridge port', async () => {
    const t = parseTopology(yaml('{a: "h:eth0", b: "r:eth0", bw: 10}'));
    const shell = new RecordingShell();
    const state: LabState = { version: 1, name: 'shaped', id: 'ab', mark: 'warplab:shaped:ab', substrate: 'netns', status: 'creating', createdAt: '', topology: t, objects: [], processes: [] } as LabState;
    await new NetnsSubstrate(shell).create(t, { state, path: '/nonexistent', record: () => {}, progress: () => {} });
    const script = (ns: string) => shell.calls.find((c) => c.argv[1] === `--net=/run/netns/wl-shaped-${ns}`)!.argv[5]!;
    assert.match(script('h'), /; ip -batch -\ntc qdisc add dev eth0 root handle 5: htb default 1\ntc class add dev eth0 parent 5: classid 5:1 htb rate 10mbit burst 15k$/);
    assert.match(script('r'), /tc qdisc add dev eth0 root handle 5: htb default 1\n.*\ntc qdisc add dev eth1 root handle 10: pfifo limit 50$/);
    assert.match(script('s'), /\ntc qdisc add dev port1 root handle 10: pfifo limit 50$/);
    assert.match(script('k'), /; exec ip -batch -$/);
  });
});
