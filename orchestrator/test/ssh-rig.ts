// An SSH "host" on this machine for integration tests (root): a network namespace
// `wlrig-TAG-h1` whose sshd (Debian's openssh-server) runs in a mount namespace of its own,
// with a tmpfs /run (so its own /run/netns) and keys, config and logs in a temp dir. It never
// touches /etc/ssh, /root/.ssh or the root namespace's links (other labs' tests compare
// them): the tests reach sshd through a unix socket that socat, inside the namespace, joins
// to 127.0.0.1:22. Teardown kills only what the rig started (sshd, socat) and what lives in
// its mount namespace (sshd's sessions and what they started), then deletes the namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdline, reaped, terminate } from '../lab/processes.js';
import type { ConnectionOptions, SshHost } from '../shell/ssh.js';
import { removeDir } from './helpers.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshRig {
  readonly netns: string;
  /** The rig's temp dir (the host sees it too), removed by close. */
  readonly dir: string;
  /** Settings to reach the rig's sshd: 127.0.0.1:22 as the host itself sees it, the client key, a hashed known_hosts. */
  readonly host: SshHost;
  /** What carries the connection into the namespace. */
  readonly connection: ConnectionOptions;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** The lab mark the tests give their processes. */
  readonly mark: string;
  /** Kills what the rig started, deletes the namespace and the temp dir; says what was left. */
  close(): Promise<string[]>;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function sshdConfig(dir: string): string {
  return [
    'ListenAddress 127.0.0.1:22',
    `HostKey ${dir}/host_key`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no', // the keys sit in /tmp
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/**
 * sshd's mount namespace: a tmpfs /run (its privilege-separation dir, its /run/netns) and,
 * as on a clean host, no ~/.bashrc for the sessions' shells (root's here runs pyenv:
 * ~0.5 s per command, FIELD-NOTES).
 */
function sshdScript(dir: string): string {
  return [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -m755 /run/sshd',
    '[ ! -e "$HOME/.bashrc" ] || mount --bind /dev/null "$HOME/.bashrc"',
    `exec ${SSHD} -D -f ${dir}/sshd_config -E ${dir}/sshd.log`,
  ].join('\n');
}

function mountNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Processes in mount namespace `ns`: only the rig's sshd made it, so all are the rig's. */
function processesInMountNs(ns: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => mountNs(p) === ns);
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`ssh rig: ${what} not ready within ${ms} ms`);
    await sleep(20);
  }
}

export async function startSshRig(): Promise<SshRig> {
  const tag = randomBytes(3).toString('hex');
  const netns = `wlrig-${tag}-h1`;
  const dir = mkdtempSync(join(tmpdir(), `wlrig-${tag}-`));
  const started: ChildProcess[] = [];
  let sshdMnt: string | undefined;

  const close = async (): Promise<string[]> => {
    const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    const mine = (p: number) => (sshdMnt !== undefined && mountNs(p) === sshdMnt) || started.some((c) => c.pid === p && running(c));
    const pids = new Set([...started.map((c) => c.pid!), ...(sshdMnt ? processesInMountNs(sshdMnt) : [])]);
    const stopped = await terminate([...pids], mine, 2000);
    const left = (await reaped(stopped)).map((p) => `process ${p.pid}`);
    if (sshdMnt) left.push(...processesInMountNs(sshdMnt).map((p) => `process ${p} (${cmdline(p).join(' ')}) in the rig's mount namespace`));
    try {
      run('ip', ['netns', 'delete', netns]);
    } catch {
      /* never made */
    }
    if (run('ip', ['netns', 'list']).includes(netns)) left.push(`namespace ${netns}`);
    removeDir(dir);
    return left;
  };

  try {
    run('ip', ['netns', 'add', netns]);
    run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wlrig host', '-f', join(dir, 'host_key')]);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wlrig client', '-f', join(dir, 'id')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
    writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir));
    const fingerprint = run('ssh-keygen', ['-l', '-f', join(dir, 'host_key.pub')]).split(' ')[1]!;

    const sshd = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', sshdScript(dir)], { stdio: 'ignore' });
    started.push(sshd);
    await waitFor('sshd', () => /Server listening on 127\.0\.0\.1 port 22/.test(readFileSync(join(dir, 'sshd.log'), { encoding: 'utf8', flag: 'a+' })));
    sshdMnt = mountNs(sshd.pid!);
    const sock = join(dir, 'sshd.sock');
    // nodelay: what setNoDelay does on a direct connection (p90 per command 49 → 10 ms)
    started.push(spawn('ip', ['netns', 'exec', netns, 'socat', `UNIX-LISTEN:${sock},fork,mode=600`, 'TCP:127.0.0.1:22,nodelay'], { stdio: 'ignore' }));
    await waitFor('socat', () => existsSync(sock));

    // known_hosts as OpenSSH's own tools write it, hashed (-H)
    writeFileSync(join(dir, 'known_hosts'), run('ip', ['netns', 'exec', netns, 'ssh-keyscan', '-H', '-t', 'ed25519', '127.0.0.1']));
    return {
      netns,
      dir,
      host: { name: netns, address: '127.0.0.1', keyFile: join(dir, 'id'), knownHosts: join(dir, 'known_hosts') },
      connection: { dial: () => connect(sock) },
      fingerprint,
      mark: `warplab:wlrig-${tag}:1`,
      close,
    };
  } catch (e) {
    const left = await close();
    if (left.length) console.log(`      ssh rig left: ${left.join(', ')}`);
    throw e;
  }
}
