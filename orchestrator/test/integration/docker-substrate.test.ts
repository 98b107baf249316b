// @root: what only the docker substrate has (the suites that run on every substrate cover the
// rest): a daemon of the user's, where only the lab's labelled containers are touched; images
// that are not on the engine; commands in a node's own filesystem.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { up } from '../../lab/lab.js';
import { chainTopologyYaml } from '../../bench/chain.js';
import { LocalShell } from '../../shell/local.js';
import { DockerSubstrate } from '../../substrate/docker/docker.js';
import { LABELS, NODE_IMAGE } from '../../substrate/docker/plan.js';
import { registerSubstrate } from '../../substrate/registry.js';
import { parseTopology } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { startEngine, type DockerEngine } from '../../workload/docker/index.js';
import { cleanStateDir, labProcesses, removeDir, requireSubstrate, tempStateDir, testName } from '../helpers.js';

const chain = (name: string): Topology => parseTopology(chainTopologyYaml(2, testName(name)));

describe('@root docker substrate', function () {
  this.timeout(180_000);
  let stateDir: string;
  before(async function () {
    await requireSubstrate(this, 'docker');
  });
  beforeEach(() => {
    stateDir = tempStateDir();
  });
  afterEach(async () => {
    await cleanStateDir(stateDir);
  });

  describe("on a daemon of the user's (--docker-host)", () => {
    let engine: DockerEngine;
    let substrate: Disposable;
    let home: string;
    before(async () => {
      // The "user's" daemon: an engine of its own, outside any lab.
      home = tempStateDir();
      engine = await startEngine({ dir: join(home, 'users-docker'), shell: new LocalShell() });
      substrate = registerSubstrate('docker-users', () => new DockerSubstrate({ dockerHost: `unix://${engine.socket}` }));
    });
    after(async () => {
      substrate[Symbol.dispose]();
      await engine.stop();
      removeDir(home);
    });

    it("builds the lab there and removes only its labelled containers: the user's own and another lab's stay", async () => {
      const bystander = async (name: string, labels: Record<string, string>) => {
        const c = await engine.docker.createContainer({ name, Image: NODE_IMAGE, Cmd: ['/bin/sleep', '2147483647'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
        await c.start();
        return c.id;
      };
      const mine = await bystander('users-own', {});
      const other = await bystander('wl-other-lab', { [LABELS.lab]: 'other', [LABELS.labId]: 'feedbeef' });
      const t = chain('dk-ext');
      {
        await using lab = await up(t, { stateDir, substrate: 'docker-users' });
        const ours = await engine.docker.listContainers({ filters: { label: [`${LABELS.lab}=${t.name}`] } });
        assert.deepEqual(ours.map((c) => c.Labels[LABELS.node]).sort(), ['h1', 'h2', 'r1', 'r2']);
        assert.ok(ours.every((c) => c.Labels[LABELS.labId] === lab.snapshot.id));
        const h2 = t.nodes.find((n) => n.name === 'h2')!.interfaces[0]!.ipv4[0]!.split('/')[0]!;
        assert.equal((await lab.shell('h1').exec(['ping', '-c1', '-W2', h2], { check: false })).exitCode, 0);
      }
      const left = (await engine.docker.listContainers({ all: true })).map((c) => c.Id).sort();
      assert.deepEqual(left, [mine, other].sort(), 'only the lab\'s containers went');
      assert.deepEqual(labProcesses(t.name), []);
    });
  });

  it("an image that is not on the engine is never pulled: the error says how to load it, and nothing is left", async () => {
    const t = chain('dk-img');
    const named = { ...t, nodes: t.nodes.map((n) => (n.name === 'r1' ? { ...n, container: { image: 'nosuch/router:1', env: {}, binds: [], exec: [] } } : n)) };
    await assert.rejects(up(named, { stateDir, substrate: 'docker' }), /node r1: image nosuch\/router:1 is not on the Docker engine, and warplab never pulls.*docker save nosuch\/router:1/s);
    assert.deepEqual(labProcesses(t.name), []);

    // A containerlab linux node may run warplab's image instead, unless --strict-images.
    const lax = { ...t, nodes: t.nodes.map((n) => (n.name === 'r1' ? { ...n, container: { image: 'nosuch/linux:1', substituteMissingImage: true, env: { ROLE: 'core' }, binds: [], exec: [] } } : n)) };
    {
      await using lab = await up(lax, { stateDir, substrate: 'docker' });
      assert.equal((await lab.imageShell('r1').exec(['sh', '-c', 'echo $ROLE'])).stdout.trim(), 'core');
    }
    using _strict = registerSubstrate('docker-strict', () => new DockerSubstrate({ strictImages: true }));
    await assert.rejects(up(lax, { stateDir, substrate: 'docker-strict' }), /node r1: image nosuch\/linux:1 is not on the Docker engine.*drop --strict-images/s);
    assert.deepEqual(labProcesses(t.name), []);
  });

  it("a node's imageShell runs in its own filesystem (docker exec); its Shell in the host's, in its namespace", async () => {
    await using lab = await up(chain('dk-fs'), { stateDir, substrate: 'docker' });
    const inImage = await lab.imageShell('r1').exec(['sh', '-c', 'hostname; ls /app.sh; sysctl -n net.ipv4.ip_forward']);
    assert.deepEqual(inImage.stdout.trim().split('\n'), ['r1', '/app.sh', '1']);
    assert.equal((await lab.imageShell('r1').exec(['sh', '-c', 'exit 4'], { check: false })).exitCode, 4);
    const onHost = await lab.shell('r1').exec(['sh', '-c', 'test -e /app.sh && echo image || echo host; ip -o -4 addr show dev eth1']);
    assert.match(onHost.stdout, /^host\n.*inet 10\.0\.1\.1\/24/s);
  });
});
