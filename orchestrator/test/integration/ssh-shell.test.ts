// @root: the SSH Shell against Debian's real sshd, in a namespace with its own mount namespace
// (test/ssh-rig.ts): host keys as OpenSSH's tools write them, sshd's session limit, setsid
// background processes, a node namespace on the host entered with an nsenter prefix, SFTP.
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { carriesMark } from '../../lab/processes.js';
import { ExecError, SubstrateError } from '../../errors.js';
import { SshConnection, SshShell, type SshHost } from '../../shell/ssh.js';
import { requireRoot } from '../helpers.js';
import { SSHD, startSshRig, type SshRig } from '../ssh-rig.js';

const until = async (ok: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return ok();
};
const netnsOf = (pid: number | 'self') => readlinkSync(`/proc/${pid}/ns/net`);

describe('@root SSH shell against a real sshd in a namespace', function () {
  this.timeout(120_000);
  let rig: SshRig | undefined;
  const conns: SshConnection[] = [];
  const h1 = () => rig!.hosts[0]!;
  const connect = (h: SshHost) => {
    const c = new SshConnection(h, h1().connection);
    conns.push(c);
    return c;
  };
  const shell = (prefix: string[] = []) => new SshShell(connect(h1().host), `ssh ${h1().netns}`, prefix, { WARPLAB_LAB: rig!.mark });

  before(async function () {
    requireRoot(this);
    if (!existsSync(SSHD)) {
      console.log(`      (skipped: ${SSHD} is missing: bash ci/setup.sh installs openssh-server)`);
      this.skip();
    }
    rig = await startSshRig();
  });
  after(async () => {
    conns.forEach((c) => c.close());
    if (rig) assert.deepEqual(await rig.close(), [], 'the rig left nothing behind');
  });

  it('checks the host key against a hashed known_hosts from ssh-keyscan, or the fingerprint ssh-keygen prints', async () => {
    assert.equal((await shell().exec(['echo', 'ok'])).stdout, 'ok\n');
    const pinned = new SshShell(connect({ ...h1().host, knownHosts: '/nonexistent', fingerprint: h1().fingerprint }), 'pinned');
    assert.equal((await pinned.exec(['echo', 'ok'])).stdout, 'ok\n');
    const unknown = new SshShell(connect({ ...h1().host, knownHosts: '/dev/null' }), 'unknown');
    await assert.rejects(unknown.exec(['true']), (e: unknown) => e instanceof SubstrateError && e.message.includes(h1().fingerprint) && e.message.includes('ssh-keyscan -p 22 10.99.0.11 >> ~/.ssh/known_hosts'));
  });

  it('hands argv, stdin and the environment over intact; stderr, exit code and timeout as locally', async () => {
    const s = shell();
    const words = ['a b', "it's", 'two\nlines', '', '$HOME', '*', '\\'];
    assert.deepEqual((await s.exec(['printf', '%s\\0', ...words])).stdout.split('\0').slice(0, -1), words);
    const r = await s.exec(['sh', '-c', 'cat; echo "$WARPLAB_LAB"; echo err >&2'], { input: 'in\n' });
    assert.deepEqual([r.stdout, r.stderr], [`in\n${rig!.mark}\n`, 'err\n']);
    await assert.rejects(s.exec(['sh', '-c', 'exit 7']), (e: unknown) => e instanceof ExecError && e.exitCode === 7);
    const t0 = Date.now();
    const sleep = `sleep 20.${randomBytes(3).readUIntBE(0, 3)}`;
    await assert.rejects(s.exec(['sh', '-c', `${sleep}; true`], { timeoutMs: 500 }), /timed out after 500 ms/);
    assert.ok(Date.now() - t0 < 3000);
    const runs = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').includes(sleep);
    assert.ok(await until(() => !runs()), 'the timed-out command and its children were ended on the host');
  });

  it('runs 20 commands at once over one connection, although sshd allows 10 sessions', async () => {
    const s = shell();
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => s.exec(['sh', '-c', `sleep 0.3; echo ${i}`])));
    assert.deepEqual(outs.map((o) => o.stdout), Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('starts a background process in its own session with the mark; kill ends it and exited resolves', async () => {
    const p = shell().spawn(['sleep', '30'], { logFile: join(rig!.dir, 'bg.log') });
    const pid = await p.started;
    // `$!` is told as soon as the shell forks; setsid and env act when they exec, a moment later
    assert.ok(await until(() => carriesMark(pid, rig!.mark)), 'the process carries the mark');
    const session = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3];
    assert.ok(await until(() => session() === String(pid)), 'it leads its own session');
    assert.equal(netnsOf(pid), execFileSync('ip', ['netns', 'exec', h1().netns, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim());
    p.kill();
    assert.equal(await p.exited, null);
  });

  it("enters a namespace made on the host (in the host's own /run/netns) with an nsenter prefix", async () => {
    const node = `${h1().netns}-n1`;
    await shell().exec(['ip', 'netns', 'add', node]);
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(node), "the host's /run/netns is not this machine's");
    const inNode = shell(['nsenter', `--net=/run/netns/${node}`, '--']);
    assert.deepEqual((await inNode.exec(['ip', '-o', 'link'])).stdout.trim().split('\n').map((l) => l.split(': ')[1]), ['lo']);
    const p = inNode.spawn(['sleep', '30']);
    const pid = await p.started;
    assert.ok(await until(() => carriesMark(pid, rig!.mark)));
    assert.notEqual(netnsOf(pid), netnsOf('self'));
    p.kill('SIGKILL');
    assert.equal(await p.exited, null);
  });

  it('uploads with SFTP once: an unchanged file is not sent again; the mode is kept', async () => {
    const c = connect(h1().host);
    const src = join(rig!.dir, 'agent');
    const dst = join(rig!.dir, 'remote', 'bin', 'agent');
    writeFileSync(src, randomBytes(2_000_000));
    chmodSync(src, 0o755);
    assert.equal(await c.upload(src, dst), true);
    assert.ok(readFileSync(dst).equals(readFileSync(src)));
    assert.equal(statSync(dst).mode & 0o777, 0o755);
    assert.equal(await c.upload(src, dst), false);
    writeFileSync(src, 'v2');
    assert.equal(await c.upload(src, dst), true);
    assert.equal(readFileSync(dst, 'utf8'), 'v2');
  });
});
