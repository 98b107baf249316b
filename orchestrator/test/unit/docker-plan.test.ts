import { strict as assert } from 'node:assert';
import type { LabState } from '../../lab/state.js';
import { chooseImages, dockerSocket, NODE_IMAGE, nodeContainer, pidWires } from '../../substrate/docker/plan.js';
import { linksBatch, wiresOf } from '../../substrate/netns/plan.js';
import { parseTopology } from '../../topology/load.js';
import type { NodeSpec } from '../../topology/model.js';

const t = parseTopology(`
name: dk
nodes:
  h: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}, routes: [{to: default, via: 10.0.0.1}]}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.0.0.1/24}, eth1: {ipv4: 10.0.1.1/24}}}
  s: {kind: lan}
links:
  - h:eth0 -- r:eth0
  - r:eth1 -- s
`);
const state = { version: 1, name: 'dk', id: 'beef', mark: 'warplab:dk:beef', substrate: 'docker', status: 'creating', createdAt: '', topology: t, objects: [], processes: [] } as LabState;
const node = (name: string, container?: NodeSpec['container']): NodeSpec => ({ ...t.nodes[0]!, name, ...(container ? { container } : {}) });

describe('docker substrate plans (pure)', () => {
  it("a node's container: no network, the lab's labels and mark, warplab's image sleeping as PID 1", () => {
    const c = nodeContainer(state, t.nodes[1]!, NODE_IMAGE);
    assert.deepEqual(c, {
      name: 'wl-dk-r',
      Hostname: 'r',
      Image: NODE_IMAGE,
      Cmd: ['/bin/sleep', '2147483647'],
      Env: ['WARPLAB_LAB=warplab:dk:beef'],
      Labels: { 'warplab.lab': 'dk', 'warplab.lab-id': 'beef', 'warplab.node': 'r', 'warplab.kind': 'router' },
      HostConfig: { NetworkMode: 'none', CapAdd: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'], MaskedPaths: [], ReadonlyPaths: [] },
    });
  });

  it("a foreign image keeps its command with a terminal; env, binds and cmd as containerlab takes them", () => {
    const own = nodeContainer(state, node('a', { image: 'alpine:3', env: { A: '1' }, binds: ['/srv:/srv:ro'], exec: [] }), 'alpine:3');
    assert.equal(own.Cmd, undefined);
    assert.deepEqual([own.Tty, own.OpenStdin, own.Env, own.HostConfig?.Binds], [true, true, ['WARPLAB_LAB=warplab:dk:beef', 'A=1'], ['/srv:/srv:ro']]);
    const cmd = nodeContainer(state, node('b', { image: 'alpine:3', env: {}, binds: [], cmd: 'sleep 9', exec: [] }), 'alpine:3');
    assert.deepEqual([cmd.Cmd, cmd.Tty], [['/bin/sh', '-c', 'sleep 9'], undefined]);
  });

  it('veths go straight into the containers by PID', () => {
    const wires = pidWires(wiresOf(t), new Map([['h', 11], ['r', 22], ['s', 33]]));
    assert.equal(linksBatch(wires), 'link add eth0 netns 11 type veth peer name eth0 netns 22\nlink add eth1 netns 22 type veth peer name port1 netns 33\n');
  });

  it('a missing image is never pulled: an error saying how to load it, or warplab\'s image where the node allows it', () => {
    const nodes = [node('x', { image: 'frr:9', env: {}, binds: [], exec: [] }), node('y', { image: 'alpine:3', env: {}, binds: [], exec: [], substituteMissingImage: true }), node('z')];
    const lax = chooseImages(nodes, new Set(), false);
    assert.deepEqual(lax.choices, [{ node: 'y', image: NODE_IMAGE, substitutes: 'alpine:3' }, { node: 'z', image: NODE_IMAGE }]);
    assert.equal(lax.errors.length, 1);
    assert.match(lax.errors[0]!, /node x: image frr:9 is not on the Docker engine.*docker save frr:9 \| docker -H unix:\/\/SOCKET load.*docker import/);
    const strict = chooseImages(nodes, new Set(), true);
    assert.deepEqual(strict.errors.map((e) => e.split(':')[0]), ['node x', 'node y']);
    assert.match(strict.errors[1]!, /drop --strict-images/);
    assert.deepEqual(chooseImages(nodes, new Set(['frr:9', 'alpine:3']), true).errors, []);
  });

  it('only a docker host on this machine can be plumbed', () => {
    assert.deepEqual([dockerSocket('unix:///var/run/docker.sock'), dockerSocket('/run/d.sock'), dockerSocket('tcp://10.0.0.1:2375')], ['/var/run/docker.sock', '/run/d.sock', undefined]);
  });
});
