// The SSH substrate's plan: VNIs, VXLAN tunnels and veths per host, as exact commands.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { SubstrateError, TopologyError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { linksBatch, nodeBatch } from '../../substrate/netns/plan.js';
import { MAX_VNI, sshPlan } from '../../substrate/ssh/plan.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';

// x and z have jumbo frames, y has not. r1–r2 crosses x–y, r3–r4 crosses z–x with its own
// mtu, and lan s (on x) spans x, y and z through h2 and h3.
const YAML = `
name: sp
hosts:
  x: {address: 10.99.0.1, underlay-mtu: 9000}
  y: {address: 10.99.0.2}
  z: {address: 10.99.0.3, underlay-mtu: 9000}
nodes:
  r1: {kind: router, host: x, interfaces: {eth0: {ipv4: 10.0.0.1/30}, eth1: {ipv4: 10.1.0.1/24}}}
  r2: {kind: router, host: y, interfaces: {eth0: {ipv4: 10.0.0.2/30}}}
  s: {kind: lan, host: x}
  h1: {kind: host, host: x, interfaces: {eth0: {ipv4: 10.1.0.11/24}}}
  h2: {kind: host, host: z, interfaces: {eth0: {ipv4: 10.1.0.12/24}}}
  h3: {kind: host, host: y, interfaces: {eth0: {ipv4: 10.1.0.13/24}}}
  r3: {kind: router, host: z, interfaces: {eth0: {ipv4: 10.2.0.1/30}}}
  r4: {kind: router, host: x, interfaces: {eth0: {ipv4: 10.2.0.2/30}}}
links:
  - r1:eth0 -- r2:eth0
  - r1:eth1 -- s
  - h1:eth0 -- s
  - h2:eth0 -- s
  - h3:eth0 -- s
  - {a: "r3:eth0", b: "r4:eth0", mtu: 8000}
`;
const t = parseTopology(YAML);

describe('SSH substrate plan', () => {
  const plan = sshPlan(t, 5000, 'M');
  const host = (name: string) => plan.hosts.find((h) => h.host.name === name)!;

  it('allocates VNIs from the base: cross-host links in file order, then spanning lans; same topology, same VNIs', () => {
    assert.deepEqual(plan.vnis, [
      { vni: 5000, what: 'links[0]' },
      { vni: 5001, what: 'links[5]' },
      { vni: 5002, what: 'lan s' },
    ]);
    assert.deepEqual(sshPlan(t, 5000, 'M'), plan);
    assert.deepEqual(sshPlan(t, 70, 'M').vnis.map((v) => v.vni), [70, 71, 72]);
  });

  it('refuses a base that is no VNI, or that runs past the largest', () => {
    assert.throws(() => sshPlan(t, 0, 'M'), SubstrateError);
    assert.throws(() => sshPlan(t, MAX_VNI - 1, 'M'), /needs VNIs from 16777214 past 16777215/);
    assert.equal(sshPlan(t, MAX_VNI - 2, 'M').vnis.at(-1)!.vni, MAX_VNI);
  });

  it('a cross-host link is a VXLAN pair at min(underlay MTU) − 50, unless the link says less', () => {
    assert.deepEqual(plan.links.map((k) => [k.vni, k.a.host, k.a.node, k.a.ifname, k.a.device, k.b.host, k.b.node, k.b.ifname, k.mtu]), [
      [5000, 'x', 'r1', 'eth0', 'wlvx5000', 'y', 'r2', 'eth0', 1450],
      [5001, 'z', 'r3', 'eth0', 'wlvx5001', 'x', 'r4', 'eth0', 8000],
    ]);
    assert.deepEqual(plan.lans.map((s) => [s.vni, s.lan, s.ends.map((e) => e.host), s.mtu]), [[5002, 's', ['x', 'y', 'z'], 1450]]);
  });

  it('each host: its namespaces, its veths, and the tunnel commands made in its own namespace', () => {
    assert.deepEqual(plan.hosts.map((h) => [h.host.name, h.nodes]), [
      ['x', ['r1', 's', 'h1', 'r4']],
      ['y', ['r2', 's', 'h3']],
      ['z', ['s', 'h2', 'r3']],
    ]);
    // Every port of the spanning lan at its MTU, at both ends of the veth.
    assert.equal(
      linksBatch(host('x').wires),
      'link add eth1 netns wl-sp-r1 mtu 1450 type veth peer name port1 netns wl-sp-s mtu 1450\n' +
        'link add eth0 netns wl-sp-h1 mtu 1450 type veth peer name port2 netns wl-sp-s mtu 1450\n',
    );
    assert.equal(linksBatch(host('z').wires), 'link add eth0 netns wl-sp-h2 mtu 1450 type veth peer name port3 netns wl-sp-s mtu 1450\n');
    assert.deepEqual(host('x').commands, [
      'ip link add wlvx5000 mtu 1450 type vxlan id 5000 local 10.99.0.1 remote 10.99.0.2 dstport 4789 nolearning',
      'ip link set wlvx5000 alias M',
      'ip link set wlvx5000 netns wl-sp-r1',
      'ip -n wl-sp-r1 link set wlvx5000 name eth0',
      'ip link add wlvx5001 mtu 8000 type vxlan id 5001 local 10.99.0.1 remote 10.99.0.3 dstport 4789 nolearning',
      'ip link set wlvx5001 alias M',
      'ip link set wlvx5001 netns wl-sp-r4',
      'ip -n wl-sp-r4 link set wlvx5001 name eth0',
      'ip link add wlvx5002 mtu 1450 type vxlan id 5002 local 10.99.0.1 dstport 4789 nolearning',
      'ip link set wlvx5002 alias M',
      'ip link set wlvx5002 netns wl-sp-s',
      'ip -n wl-sp-s link set wlvx5002 name vxlan0',
      'bridge -n wl-sp-s fdb append 00:00:00:00:00:00 dev vxlan0 dst 10.99.0.2',
      'bridge -n wl-sp-s fdb append 00:00:00:00:00:00 dev vxlan0 dst 10.99.0.3',
    ]);
    assert.deepEqual(host('y').commands, [
      'ip link add wlvx5000 mtu 1450 type vxlan id 5000 local 10.99.0.2 remote 10.99.0.1 dstport 4789 nolearning',
      'ip link set wlvx5000 alias M',
      'ip link set wlvx5000 netns wl-sp-r2',
      'ip -n wl-sp-r2 link set wlvx5000 name eth0',
      'ip link add wlvx5002 mtu 1450 type vxlan id 5002 local 10.99.0.2 dstport 4789 nolearning',
      'ip link set wlvx5002 alias M',
      'ip link set wlvx5002 netns wl-sp-s',
      'ip -n wl-sp-s link set wlvx5002 name vxlan0',
      'bridge -n wl-sp-s fdb append 00:00:00:00:00:00 dev vxlan0 dst 10.99.0.1',
      'bridge -n wl-sp-s fdb append 00:00:00:00:00:00 dev vxlan0 dst 10.99.0.3',
    ]);
  });

  it('tunnel ends are configured in their nodes like veth ends: a lan\'s joins the bridge, a node\'s gets its address', () => {
    const z = host('z');
    const node = (n: string) => t.nodes.find((x) => x.name === n)!;
    assert.deepEqual(nodeBatch(node('s'), z.wires, 'M', z.tunnels).split('\n').slice(2, -1), [
      'link add br0 type bridge', 'link set br0 alias M', 'link set br0 up',
      'link set port3 alias M', 'link set port3 master br0', 'link set port3 up',
      'link set vxlan0 alias M', 'link set vxlan0 master br0', 'link set vxlan0 up',
    ]);
    assert.deepEqual(nodeBatch(node('r3'), z.wires, 'M', z.tunnels).split('\n').slice(2, -1), [
      'link set dev eth0 alias M', 'addr add 10.2.0.1/30 dev eth0', 'link set dev eth0 up',
    ]);
  });

  it('a link or interface mtu larger than the tunnel carries is an error at its line:col, with the arithmetic', () => {
    const bad = YAML.replace('mtu: 8000', 'mtu: 8960').replace('h3: {kind: host, host: y, interfaces: {eth0: {ipv4: 10.1.0.13/24}}}', 'h3: {kind: host, host: y, interfaces: {eth0: {ipv4: 10.1.0.13/24, mtu: 1500}}}');
    const err = (() => {
      try {
        parseTopology(bad);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof TopologyError, String(err));
    assert.deepEqual(err.issues.map((i) => `${i.pos.line}:${i.pos.col}: ${i.path}: ${i.message} | ${i.hint}`), [
      '13:74: nodes.h3.interfaces.eth0.mtu: mtu 1500 is too large: links[4] crosses x, y, z by VXLAN, which carries 1500 (underlay MTU) − 50 (outer IPv4 20, UDP 8, VXLAN 8, Ethernet 14) = 1450 | use 1450 or less, or raise underlay-mtu on x, y, z',
      '22:39: links[5].mtu: mtu 8960 is too large: links[5] crosses x, z by VXLAN, which carries 9000 (underlay MTU) − 50 (outer IPv4 20, UDP 8, VXLAN 8, Ethernet 14) = 8950 | use 8950 or less, or raise underlay-mtu on x, z',
    ]);
  });

  it('the ICOIN 2011 lab on three hosts: R1–core, R2–core and mgmt cross hosts', async () => {
    const icoin = sshPlan(await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging-3hosts.yaml')), 100, 'M');
    assert.deepEqual(icoin.vnis.map((v) => `${v.vni} ${v.what}`), ['100 links[6]', '101 links[7]', '102 lan mgmt']);
    assert.deepEqual(icoin.lans.map((s) => [s.lan, s.ends.map((e) => e.host), s.mtu]), [['mgmt', ['pdc', 'adc'], 1450]]);
  });
});
