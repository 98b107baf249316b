// Hosts and placement (issue 15): what the loader makes of `hosts:` and `placement:`.
import { registerLabExtension } from '../../lab/extensions.js';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { SubstrateError, TopologyError } from '../../errors.js';
import { up } from '../../lab/lab.js';
import { packageRoot } from '../../paths.js';
import { registerSubstrate } from '../../substrate/registry.js';
import type { NodeNeed } from '../../substrate/substrate.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { RecordingShell, removeDir, tempStateDir } from '../helpers.js';

/** `line:col: path: message` of every issue, or a failure when the text loads. */
function issues(text: string): string[] {
  try {
    parseTopology(text);
  } catch (e) {
    assert.ok(e instanceof TopologyError, String(e));
    return e.issues.map((i) => `${i.pos.line}:${i.pos.col}: ${i.path}: ${i.message}`);
  }
  return assert.fail('expected a TopologyError');
}

const placed = (text: string) => Object.fromEntries(parseTopology(text).nodes.map((n) => [n.name, n.host]));

const HOSTS = `
name: place
hosts:
  a: {address: 10.99.0.1, labels: {dc: west}}
  b: {address: 10.99.0.2, labels: {dc: east}}
  c: {address: 10.99.0.3}
`;

describe('hosts and placement', () => {
  it('fills in the defaults, and resolves key and known_hosts files against the file\'s folder', () => {
    const t = parseTopology(`
name: defaults
hosts:
  a: {address: 10.99.0.1}
  b: {address: 10.99.0.2, port: 2222, user: lab, key-file: keys/id_ed25519, known-hosts: /etc/ssh/lab_known_hosts, ssh-config: b-alias, underlay-mtu: 9000}
  c: {address: 10.99.0.3, fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"}
nodes:
  n: {kind: host}
`);
    assert.deepEqual(t.hosts, [
      { name: 'a', address: '10.99.0.1', port: 22, user: 'root', underlayMtu: 1500, labels: {} },
      { name: 'b', address: '10.99.0.2', port: 2222, user: 'lab', keyFile: join(process.cwd(), 'keys/id_ed25519'), knownHosts: '/etc/ssh/lab_known_hosts', sshConfig: 'b-alias', underlayMtu: 9000, labels: {} },
      { name: 'c', address: '10.99.0.3', port: 22, user: 'root', fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s', underlayMtu: 1500, labels: {} },
    ]);
    assert.equal(t.placement, 'round-robin');
  });

  it('a topology without hosts is what it was: no hosts, no placement, no host on nodes', () => {
    const t = parseTopology('name: local\nnodes:\n  n: {kind: host}\n');
    assert.deepEqual([t.hosts, t.placement, Object.hasOwn(t.nodes[0]!, 'host')], [undefined, undefined, false]);
  });

  it('refuses a password, at the key, saying keys only', () => {
    assert.deepEqual(issues('name: pw\nhosts:\n  a: {address: 10.99.0.1, password: hunter2}\nnodes:\n  n: {kind: host}\n'), [
      '3:27: hosts.a.password: passwords are not accepted: warplab logs in to hosts with keys only',
    ]);
  });

  it('round robin: nodes without host: take the hosts in turn, in file order, host: nodes aside', () => {
    assert.deepEqual(placed(`${HOSTS}nodes:\n  n1: {kind: host, host: c}\n  n2: {kind: host}\n  n3: {kind: lan}\n  n4: {kind: host}\n  n5: {kind: host}\n`), { n1: 'c', n2: 'a', n3: 'b', n4: 'c', n5: 'a' });
  });

  it('by-label: a value names a host, or the host labelled with it; explicit host: wins; the rest go round robin', () => {
    const nodes = `placement: {by-label: dc}
nodes:
  byname: {kind: host, labels: {dc: c}}
  bylabel: {kind: host, labels: {dc: east}}
  explicit: {kind: host, host: a, labels: {dc: east}}
  rest1: {kind: host, labels: {role: x}}
  rest2: {kind: lan}
`;
    assert.deepEqual(placed(HOSTS + nodes), { byname: 'c', bylabel: 'b', explicit: 'a', rest1: 'a', rest2: 'b' });
  });

  it('placement: explicit wants host: on every node', () => {
    assert.deepEqual(issues(`${HOSTS}placement: explicit\nnodes:\n  n1: {kind: host, host: b}\n  n2: {kind: host}\n`), ['10:3: nodes.n2: n2 has no host']);
  });

  it('reports an unknown host, a label naming none and an ambiguous label at their line:col', () => {
    assert.deepEqual(issues(`${HOSTS}  d: {address: 10.99.0.4, labels: {dc: east}}
placement: {by-label: dc}
nodes:
  n1: {kind: host, host: e}
  n2: {kind: host, labels: {dc: north}}
`), [
      '7:40: hosts.d.labels.dc: d and b are both labelled dc=east',
      '10:26: nodes.n1.host: unknown host "e"',
      '11:33: nodes.n2.labels.dc: placement by-label dc: "north" names no host',
    ]);
  });

  it('up refuses a topology with hosts on a substrate that builds here, and extensions that cannot run across hosts, before making anything', async () => {
    const made: string[] = [];
    using _ = registerSubstrate('fake', () => ({ name: 'fake', missing: async () => [], create: async () => void made.push('create'), shell: () => new RecordingShell(), destroy: async () => [] }));
    const t = parseTopology(`${HOSTS}nodes:\n  n: {kind: host}\n`);
    await assert.rejects(up(t, { substrate: 'fake', stateDir: '/nonexistent', workloads: false }), (e) => {
      assert.ok(e instanceof SubstrateError);
      assert.equal(e.message, 'cannot bring up place on fake:\n  - place places its nodes on hosts (a, b, c); fake builds on this machine only: use -s ssh');
      return true;
    });
    using _s = registerSubstrate('spanning', () => ({ name: 'spanning', spansHosts: true, missing: async () => [], create: async () => void made.push('create'), shell: () => new RecordingShell(), destroy: async () => [] }));
    using _x = registerLabExtension({ name: 'here-only', wanted: () => true, missing: async () => [], start: async () => void made.push('start'), stop: async () => [] });
    await assert.rejects(up(t, { substrate: 'spanning', stateDir: '/nonexistent', workloads: false }), /here-only does not run on labs across SSH hosts yet/);
    assert.deepEqual(made, []);
  });

  it('up asks a substrate that spans hosts for what the extensions need on the nodes: QEMU on every hypervisor of a lab with VMs', async () => {
    let asked: readonly NodeNeed[] | undefined;
    const missing = async (_t: unknown, needs?: readonly NodeNeed[]) => ((asked = needs), ['stop before building']);
    using _s = registerSubstrate('spanning', () => ({ name: 'spanning', spansHosts: true, missing, create: async () => assert.fail('nothing is built'), shell: () => new RecordingShell(), destroy: async () => [] }));
    const t = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml'));
    await assert.rejects(up(t, { substrate: 'spanning', stateDir: '/nonexistent' }), /stop before building/);
    assert.deepEqual(asked?.filter((n) => n.command === 'qemu-system-x86_64').map((n) => n.node), ['pdc-hv', 'adc-hv']);
    asked = undefined;
    await assert.rejects(up(t, { substrate: 'spanning', stateDir: '/nonexistent', workloads: false }), /stop before building/);
    assert.deepEqual(asked, [], 'no workloads started: no QEMU needed');
  });

  it("a time a host stamped (QEMU's, the watcher's) is put on the orchestrator's clock once the lab's clocks were estimated", async () => {
    const clocks = async () => [{ of: 'host b', offsetMs: 5, uncertaintyMs: 0.1, method: 'test' }];
    using _s = registerSubstrate('spanning', () => ({ name: 'spanning', spansHosts: true, missing: async () => [], create: async () => {}, shell: () => new RecordingShell(), destroy: async () => [], clocks }));
    const t = parseTopology(`${HOSTS}nodes:\n  x: {kind: host, host: a}\n  y: {kind: host, host: b}\n`);
    const stateDir = tempStateDir();
    try {
      const lab = await up(t, { substrate: 'spanning', stateDir, workloads: false });
      assert.equal(lab.onOrchestratorClock('y', 1000), 1000, 'not estimated yet: as stamped');
      await lab.clock();
      assert.equal(lab.onOrchestratorClock('y', 1000), 995, "b's clock is 5 ms ahead");
      assert.equal(lab.onOrchestratorClock('x', 1000), 1000, 'a has no estimate: as stamped');
    } finally {
      removeDir(stateDir);
    }
  });

  it('the ICOIN 2011 lab on three hosts: the DC sides on pdc and adc, the core and the user site on client', async () => {
    const t = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml'));
    const on = (h: string) => t.nodes.filter((n) => n.host === h).map((n) => n.name);
    assert.deepEqual([on('pdc'), on('adc'), on('client')], [
      ['PDC', 'pdc-hv', 'R1', 'mgmt'],
      ['ADC', 'adc-hv', 'R2'],
      ['core', 'R3', 'C', 'user', 'U'],
    ]);
  });
});
