import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TopologyError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { fromContainerlab, isContainerlab } from '../../topology/containerlab.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { nodeByName, type Topology } from '../../topology/model.js';
import { YamlSource } from '../../topology/source.js';

const dir = join(packageRoot, 'topologies', 'containerlab');

function issuesOf(text: string, file = 'lab.clab.yml'): string[] {
  try {
    parseTopology(text, file);
  } catch (e) {
    assert.ok(e instanceof TopologyError, String(e));
    return e.issues.map((i) => `${i.pos.line}:${i.pos.col}: ${i.message}`);
  }
  return assert.fail('expected a TopologyError');
}

const kinds = (t: Topology) => Object.fromEntries(t.nodes.map((n) => [n.name, n.kind]));

describe('containerlab files', () => {
  it('are told by name or by shape', () => {
    assert.equal(isContainerlab('x.clab.yml', null), true);
    assert.equal(isContainerlab('x.clab.yaml', null), true);
    assert.equal(isContainerlab('x.yaml', { name: 'x', topology: { nodes: {} } }), true);
    assert.equal(isContainerlab('x.yaml', { name: 'x', nodes: {} }), false);
  });

  it('frr-ospf.clab.yml: frr nodes become routers with their startup-config, linux nodes hosts with their exec lines', async () => {
    const t = await loadTopologyFile(join(dir, 'frr-ospf.clab.yml'));
    assert.deepEqual(kinds(t), { r1: 'router', r2: 'router', r3: 'router', h1: 'host', h2: 'host' });
    assert.deepEqual(nodeByName(t, 'r2')!.frr, { config: join(dir, 'frr-ospf', 'r2.conf'), daemons: ['zebra', 'ospfd'] });
    assert.equal(nodeByName(t, 'r2')!.container, undefined);
    assert.deepEqual(nodeByName(t, 'h1')!.container, { image: 'alpine:3.20', substituteMissingImage: true, env: {}, binds: [], exec: ['ip addr add 192.168.1.2/24 dev eth1', 'ip route add default via 192.168.1.1'] });
    assert.deepEqual(nodeByName(t, 'r1')!.interfaces, [{ name: 'eth1', ipv4: [], announce: true }, { name: 'eth2', ipv4: [], announce: true }]);
    assert.deepEqual(t.links.map((l) => `${l.a.node}:${l.a.iface} ${l.b.node}:${l.b.iface}`), ['h1:eth1 r1:eth1', 'r1:eth2 r2:eth1', 'r2:eth2 r3:eth1', 'r3:eth2 h2:eth1']);
    assert.deepEqual(t.notes, ["image of r1, r2, r3 not used: warplab runs Debian's FRR in the node's namespace (apt-get install frr); no FRR image is needed"]);
  });

  it('linux-hosts.clab.yml: a bridge becomes a lan without port names, a forwarding linux node a router, mgmt a note', async () => {
    const t = await loadTopologyFile(join(dir, 'linux-hosts.clab.yml'));
    assert.deepEqual(kinds(t), { 'br-clab': 'lan', gw: 'router', a: 'host', b: 'host', c: 'host' });
    assert.deepEqual(t.links[0], { a: { node: 'a', iface: 'eth1' }, b: { node: 'br-clab' }, labels: {} });
    assert.deepEqual(nodeByName(t, 'a')!.container!.env, { LAB: 'linux-hosts' });
    assert.match(t.notes![0]!, /^mgmt ignored: warplab has no management network/);
  });

  it('inherits as containerlab does: node > group > kind > defaults; env and labels merged, exec appended, binds joined', () => {
    const t = parseTopology(`
name: merge
topology:
  defaults: {kind: linux, image: d:1, env: {A: d, B: d}, exec: [d1], binds: [/d:/d], labels: {x: d}}
  kinds:
    linux: {image: k:1, env: {B: k, C: k}, exec: [k1], cmd: sleep 1}
  groups:
    g: {image: g:1, exec: [g1], env: {C: g}}
  nodes:
    n: {group: g, env: {D: n}, exec: [n1], binds: [/n:/n, /d:/d], labels: {y: n}}
    m: {}
  links: [{endpoints: [n:eth1, m:eth1]}]
`, 'merge.clab.yml');
    assert.deepEqual(nodeByName(t, 'n')!.container, { image: 'g:1', substituteMissingImage: true, env: { A: 'd', B: 'k', C: 'g', D: 'n' }, binds: ['/n:/n', '/d:/d'], cmd: 'sleep 1', exec: ['d1', 'k1', 'g1', 'n1'] });
    assert.deepEqual(nodeByName(t, 'n')!.labels, { x: 'd', y: 'n' });
    assert.deepEqual(nodeByName(t, 'm')!.container, { image: 'k:1', substituteMissingImage: true, env: { A: 'd', B: 'k', C: 'k' }, binds: ['/d:/d'], cmd: 'sleep 1', exec: ['d1', 'k1'] });
  });

  describe('a linux node is a router when it turns IPv4 forwarding on', () => {
    const cases: [string, string][] = [
      ['exec: [sysctl -w net.ipv4.ip_forward=1]', 'router'],
      ['exec: ["echo 1 > /proc/sys/net/ipv4/ip_forward"]', 'router'],
      ['exec: [sysctl -w net.ipv4.conf.all.forwarding=1]', 'router'],
      ['sysctls: {net.ipv4.ip_forward: 1}', 'router'],
      ['exec: [sysctl -w net.ipv4.ip_forward=0]', 'host'],
      ['exec: [ip link set eth1 up]', 'host'],
    ];
    for (const [line, kind] of cases) {
      it(`${line}: ${kind}`, () => {
        const t = parseTopology(`name: fw\ntopology:\n  nodes:\n    n: {kind: linux, ${line}}\n    m: {kind: linux}\n  links: [{endpoints: [n:eth1, m:eth1]}]\n`, 'fw.clab.yml');
        assert.equal(nodeByName(t, 'n')!.kind, kind);
      });
    }
  });

  it('reads the extended link form and a link mtu', () => {
    const t = parseTopology(`name: ext\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - type: veth\n      mtu: 9000\n      endpoints: [{node: a, interface: eth1}, {node: b, interface: eth2}]\n`, 'ext.clab.yml');
    assert.deepEqual(t.links, [{ a: { node: 'a', iface: 'eth1' }, b: { node: 'b', iface: 'eth2' }, mtu: 9000, labels: {} }]);
  });

  it('notes what a node sets that warplab does not use', () => {
    const c = fromContainerlab(new YamlSource(`name: n\ntopology:\n  nodes:\n    a: {kind: linux, mgmt-ipv4: 172.20.20.2, ports: ["80:8080"]}\n    b: {kind: linux}\n  links: [{endpoints: [a:eth1, b:eth1]}]\n`, 'n.clab.yml'));
    assert.deepEqual(c.notes, ["a: mgmt-ipv4, ports ignored (warplab's linux node has no use for them)"]);
  });

  describe('errors point at the containerlab file', () => {
    it('an unsupported kind, at its kind: value (the node\'s or the inherited one)', () => {
      assert.deepEqual(issuesOf('name: k\ntopology:\n  defaults: {kind: ceos}\n  nodes:\n    a: {kind: nokia_srlinux}\n    b: {}\n'), ['3:20: kind "ceos" is not supported', '5:15: kind "nokia_srlinux" is not supported']);
    });

    it('a link on eth0, containerlab\'s management interface', () => {
      assert.deepEqual(issuesOf('name: e\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - endpoints: ["a:eth0", "b:eth1"]\n'), ["5:19: a:eth0 is containerlab's management interface"]);
    });

    it('a node name warplab cannot use, at its key', () => {
      assert.deepEqual(issuesOf('name: n\ntopology:\n  nodes:\n    host.one: {kind: linux}\n    averyveryverylongname: {kind: linux}\n'), ['4:5: node name "host.one" cannot be a warplab node name', '5:5: node name "averyveryverylongname" cannot be a warplab node name']);
    });

    it('a node without kind, an frr node without startup-config, a malformed link', () => {
      assert.deepEqual(issuesOf('name: m\ntopology:\n  nodes:\n    a: {image: x}\n    r: {kind: frr}\n  links:\n    - endpoints: ["a:eth1"]\n    - endpoints: ["a", "r:eth1"]\n'), [
        '4:5: node a has no kind',
        '5:5: frr node r has no startup-config',
        '7:7: a link has endpoints: [A, B]',
        '8:19: endpoint "a" is not NODE:INTERFACE',
      ]);
    });

    it("warplab's own checks, at the link or node they concern", () => {
      assert.deepEqual(issuesOf('name: Lab_1\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n    - endpoints: ["a:eth1", "b:eth2"]\n'), ['1:7: invalid value "Lab_1"']);
      assert.deepEqual(issuesOf('name: l\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n    - endpoints: ["a:eth1", "c:eth2"]\n'), ['6:18: interface a:eth1 is already used by links[0]', '6:18: link b end: unknown node "c"']);
    });

    it('a startup-config that does not exist, at the node\'s startup-config', () => {
      assert.deepEqual(issuesOf('name: s\ntopology:\n  nodes:\n    r:\n      kind: frr\n      startup-config: nope/r.conf\n', join(dir, 's.clab.yml')), [`6:23: FRR configuration ${join(dir, 'nope', 'r.conf')} does not exist`]);
    });
  });

  describe('warplab convert', function () {
    this.timeout(20_000);
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), ...args], { encoding: 'utf8' });

    it('prints a warplab topology with the notes as comments at its top and on stderr', async () => {
      const r = cli('convert', join(dir, 'frr-ospf.clab.yml'));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^# warplab topology converted from /);
      assert.match(r.stdout, /^# note: image of r1, r2, r3 not used/m);
      assert.match(r.stderr, /^warplab: note: image of r1, r2, r3 not used/);
      const doc = parse(r.stdout);
      assert.deepEqual(doc.nodes.r1, { kind: 'router', frr: { config: 'frr-ospf/r1.conf' }, interfaces: { eth1: {}, eth2: {} } });
      assert.deepEqual(doc.links[0], 'h1:eth1 -- r1:eth1');
      // Read back from the containerlab file's folder, it is the same topology.
      const again = parseTopology(r.stdout, join(dir, 'converted.yaml'));
      const direct = await loadTopologyFile(join(dir, 'frr-ospf.clab.yml'));
      assert.deepEqual({ ...again, source: '', notes: [] }, { ...direct, source: '', notes: [] });
    });

    it('--json gives the document and the notes; an invalid file exits 2 with its issues', () => {
      const r = cli('convert', '--json', join(dir, 'linux-hosts.clab.yml'));
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.topology.nodes.gw.kind, 'router');
      assert.equal(j.notes.length, 1);
      const bad = cli('convert', join(packageRoot, 'topologies', 'icoin2011-paging.yaml'));
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /not a containerlab file/);
    });
  });
});
