// How a topology's host is reached: OpenSSH client configuration read as `ssh` reads it, and
// what wins over what between the topology and that file.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubstrateError } from '../../errors.js';
import { expandProxyCommand, hostMatches, proxyStream, sshConfigFor } from '../../shell/ssh-config.js';
import { hostTarget } from '../../substrate/ssh/connections.js';
import { MAX_VNI } from '../../substrate/ssh/plan.js';
import { vniBaseOf } from '../../substrate/ssh/ssh.js';
import type { HostSpec } from '../../topology/model.js';
import { removeDir } from '../helpers.js';

const CONFIG = `# global defaults come first in a real file too
IdentityFile ~/.ssh/lab_key

Host bastion-* !bastion-old
  User ops
  Port 2222

Host dc1 10.99.0.11
  HostName dc1.example.net
  User root
  Port 22
  ProxyCommand ssh -W %h:%p bastion-1

Host *
  User nobody
  UserKnownHostsFile=~/.ssh/lab_known_hosts
  ProxyCommand none
`;

describe('SSH client configuration', () => {
  it('matches Host patterns with * ? and negation', () => {
    assert.ok(hostMatches(['bastion-*', '!bastion-old'], 'bastion-1'));
    assert.ok(!hostMatches(['bastion-*', '!bastion-old'], 'bastion-old'));
    assert.ok(hostMatches(['10.99.0.?'], '10.99.0.7'));
    assert.ok(!hostMatches(['10.99.0.?'], '10.99.0.17'));
    assert.ok(!hostMatches(['a.b'], 'aXb'), 'a dot is a dot');
  });

  it('the first value obtained wins: a host block before the catch-all, globals before both', () => {
    assert.deepEqual(sshConfigFor(CONFIG, 'dc1', 'cfg'), {
      identityFile: join(homedir(), '.ssh/lab_key'),
      hostName: 'dc1.example.net',
      user: 'root',
      port: 22,
      proxyCommand: 'ssh -W %h:%p bastion-1',
      userKnownHostsFile: join(homedir(), '.ssh/lab_known_hosts'),
    });
    assert.deepEqual(sshConfigFor(CONFIG, 'bastion-old', 'cfg'), { identityFile: join(homedir(), '.ssh/lab_key'), user: 'nobody', userKnownHostsFile: join(homedir(), '.ssh/lab_known_hosts') }, 'ProxyCommand none is no proxy');
    assert.equal(sshConfigFor(CONFIG, 'bastion-2', 'cfg').port, 2222);
  });

  it('names what it does not follow, and a bad port, at file:line', () => {
    assert.throws(() => sshConfigFor('Host a\n  Port 2\nMatch user x\n', 'a', 'cfg'), (e) => e instanceof SubstrateError && e.message.startsWith('cfg:3: warplab does not follow Match'));
    assert.throws(() => sshConfigFor('Include other\n', 'a', 'cfg'), /cfg:1: warplab does not follow Include/);
    assert.throws(() => sshConfigFor('Host a\n  Port http\n', 'a', 'cfg'), /cfg:2: Port http is not a port/);
  });

  it('ProxyCommand: %h %p %r and %% expanded; the stream is the command\'s stdin and stdout, closed when it ends', async () => {
    assert.equal(expandProxyCommand('nc %h %p # %r 100%%', '10.0.0.1', 22, 'root'), 'nc 10.0.0.1 22 # root 100%');
    const s = proxyStream('cat');
    const back = new Promise<string>((resolve) => s.once('data', (b: Buffer) => resolve(b.toString())));
    s.write('ping');
    assert.equal(await back, 'ping');
    s.resume();
    const closed = new Promise((r) => s.once('close', r));
    s.end();
    await closed;
  });
});

describe('reaching a topology host', () => {
  const spec: HostSpec = { name: 'dc1', address: '10.99.0.11', port: 22, user: 'root', underlayMtu: 1500, labels: {} };
  const dir = mkdtempSync(join(tmpdir(), 'wl-sshcfg-'));
  const file = join(dir, 'config');
  after(() => removeDir(dir));
  writeFileSync(file, 'Host 10.99.0.11\n  ProxyCommand socat - UNIX-CONNECT:/x/h1.sock\n  IdentityFile /keys/id\n  UserKnownHostsFile /keys/known\n\nHost dc1-alias\n  HostName 192.0.2.7\n  User lab\n  Port 2200\n');

  it('by its address: the file adds a proxy, a key and known_hosts', () => {
    const t = hostTarget(spec, file);
    assert.deepEqual(t.host, { name: 'dc1', address: '10.99.0.11', port: 22, user: 'root', keyFile: '/keys/id', knownHosts: '/keys/known' });
    assert.ok(t.connection.dial);
    assert.equal(t.route, 'root@10.99.0.11:22 via ProxyCommand');
  });

  it('by its ssh-config alias: SSH goes to HostName with the file\'s user and port; the topology\'s key and known_hosts win', () => {
    const t = hostTarget({ ...spec, sshConfig: 'dc1-alias', keyFile: '/mine', knownHosts: '/mine-known', fingerprint: 'SHA256:x' }, file);
    assert.deepEqual(t.host, { name: 'dc1', address: '192.0.2.7', port: 2200, user: 'lab', keyFile: '/mine', knownHosts: '/mine-known', fingerprint: 'SHA256:x' });
    assert.equal(t.connection.dial, undefined);
  });

  it('without a file: the topology alone', () => {
    assert.deepEqual(hostTarget(spec, undefined).host, { name: 'dc1', address: '10.99.0.11', port: 22, user: 'root' });
  });

  it('VNI bases from lab ids: inside the VNI range with room for 65536 tunnels', () => {
    for (const id of ['00000000', 'ffffffff', '7f3a9b10', 'deadbeef']) {
      const b = vniBaseOf(id);
      assert.ok(b >= 0x1000 && b + 0x10000 <= MAX_VNI, `${id}: ${b}`);
    }
    assert.notEqual(vniBaseOf('00000001'), vniBaseOf('00000002'));
  });
});
