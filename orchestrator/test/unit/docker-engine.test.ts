import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerdArgv, dockerdEnv, engineLayout, UNIX_PATH_MAX } from '../../workload/docker/layout.js';
import { mountsUnder, unescapeMountPath } from '../../lab/mounts.js';
import { removeCgroups } from '../../workload/docker/teardown.js';

describe('docker engine layout', () => {
  it('keeps everything under a short lab folder', () => {
    const l = engineLayout('/tmp/lab/docker/');
    assert.equal(l.dir, '/tmp/lab/docker');
    assert.equal(l.socket, '/tmp/lab/docker/docker.sock');
    assert.equal(l.execRoot, '/tmp/lab/docker/exec');
    assert.equal(l.dataRoot, '/tmp/lab/docker/data');
    assert.equal(l.runDir, undefined);
    assert.match(l.namespace, /^warplab-[0-9a-f]{12}$/);
  });

  it('moves the socket and exec-root to /run/warplab when the folder is too deep for unix sockets', () => {
    const deep = '/work/' + 'x'.repeat(80) + '/docker';
    const l = engineLayout(deep);
    assert.equal(l.dataRoot, deep + '/data');
    assert.ok(l.runDir?.startsWith('/run/warplab/docker-'));
    assert.equal(l.socket, l.runDir + '/docker.sock');
    assert.ok((l.execRoot + '/containerd/containerd.sock.ttrpc').length <= UNIX_PATH_MAX);
    assert.equal(engineLayout(deep).runDir, l.runDir, 'the same folder always maps to the same place');
    assert.notEqual(engineLayout(deep + '2').namespace, l.namespace);
  });

  it('starts dockerd offline, without touching host networking, criu first on PATH', () => {
    const l = engineLayout('/tmp/lab/docker');
    const argv = dockerdArgv(l);
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(argv[0], 'dockerd');
    assert.equal(after('--data-root'), l.dataRoot);
    assert.equal(after('--exec-root'), l.execRoot);
    assert.equal(after('-H'), 'unix:///tmp/lab/docker/docker.sock');
    assert.equal(after('--containerd-namespace'), l.namespace);
    assert.equal(after('--config-file'), '/tmp/lab/docker/daemon.json');
    for (const f of ['--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none', '--experimental']) assert.ok(argv.includes(f), f);
    assert.equal(after('--exec-opt'), 'native.cgroupdriver=cgroupfs');
    assert.deepEqual(dockerdEnv(engineLayout('/run/warplab/labs/x/docker'), '/var/cache/warplab/bin/criu', '/usr/bin:/bin'), {
      PATH: '/var/cache/warplab/bin:/usr/bin:/bin',
      TMPDIR: '/run/warplab/labs/x/docker/tmp',
    });
  });
});

describe('docker engine teardown', () => {
  const mountinfo = [
    '22 1 8:1 / / rw - ext4 /dev/vda rw',
    '90 22 8:1 /tmp/lab/docker/data /tmp/lab/docker/data rw - ext4 /dev/vda rw',
    '91 90 0:50 / /tmp/lab/docker/data/overlay2/abc/merged rw - overlay overlay rw',
    '92 22 0:4 net:[4026532] /tmp/lab/docker/exec/netns/f00 rw - nsfs nsfs rw',
    '93 22 0:51 / /tmp/lab/docker2/data rw - ext4 /dev/vda rw',
    '94 22 0:52 / /tmp/with\\040space rw - tmpfs tmpfs rw',
    '95 90 8:1 / /tmp/lab/docker/data rw - ext4 /dev/vda rw',
  ].join('\n');

  it('unmounts deepest first, stacked mounts latest first, and nothing outside the folder', () => {
    assert.deepEqual(mountsUnder(mountinfo, ['/tmp/lab/docker']), [
      '/tmp/lab/docker/data/overlay2/abc/merged',
      '/tmp/lab/docker/exec/netns/f00',
      '/tmp/lab/docker/data',
      '/tmp/lab/docker/data',
    ]);
  });

  it('reads mountinfo escapes', () => {
    assert.equal(unescapeMountPath('/tmp/with\\040space'), '/tmp/with space');
    assert.deepEqual(mountsUnder(mountinfo, ['/tmp/with space']), ['/tmp/with space']);
  });

  it('removes a killed container\'s cgroups in every hierarchy (v1 controllers and v2)', () => {
    const root = mkdtempSync(join(tmpdir(), 'warplab-cgroup-test-'));
    try {
      for (const h of ['', 'memory', 'pids']) mkdirSync(join(root, h, 'docker', 'abc'), { recursive: true });
      mkdirSync(join(root, 'memory', 'docker', 'other'));
      removeCgroups('abc', root);
      for (const h of ['', 'memory', 'pids']) assert.ok(!existsSync(join(root, h, 'docker', 'abc')), h || 'v2');
      assert.ok(existsSync(join(root, 'memory', 'docker', 'other')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
