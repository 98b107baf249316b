// SSH "hosts" on this machine for integration tests (root): each host `wlrig-TAG-hK` is a
// network namespace whose sshd (Debian's openssh-server) runs in a mount namespace of its own,
// with a tmpfs /run (its own /run/netns) and a tmpfs /tmp that shows only the rig's folder, so
// that nothing works by reading the orchestrator's files. The hosts share an underlay bridge in
// a namespace of its own (`wlrig-TAG-ul`, 10.99.0.0/24, host K at 10.99.0.(10+K)). The rig
// never touches /etc/ssh, /root/.ssh or the root namespace's links (other labs' tests compare
// them): clients reach each sshd through a unix socket that socat, inside the host, joins to
// its port 22, named by an ssh_config ProxyCommand as a bastion would be. Teardown kills only
// what the rig started and what lives in the hosts' mount namespaces, then deletes the
// namespaces.
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
export const UNDERLAY = '10.99.0.0/24';

export interface RigHost {
  /** h1, h2, … */
  readonly name: string;
  readonly netns: string;
  /** On the underlay: what the topology's hosts name, and known_hosts knows. */
  readonly address: string;
  /** Settings to reach its sshd directly: the client key, the rig's hashed known_hosts. */
  readonly host: SshHost;
  /** What carries a connection into its namespace (the unix socket, in-process). */
  readonly connection: ConnectionOptions;
  /** Its host key's fingerprint as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

export interface SshRig {
  readonly hosts: RigHost[];
  /** The rig's temp dir (the hosts see it at the same path), removed by close. */
  readonly dir: string;
  /** An ssh_config with a Host block per host address: ProxyCommand, IdentityFile, UserKnownHostsFile. */
  readonly sshConfig: string;
  /** The lab mark the tests give their processes. */
  readonly mark: string;
  /** Kills what the rig started, deletes the namespaces and the temp dir; says what was left. */
  close(): Promise<string[]>;
}

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });

function sshdConfig(dir: string, name: string): string {
  return [
    'ListenAddress 0.0.0.0:22',
    `HostKey ${dir}/${name}_host_key`,
    `PidFile ${dir}/${name}-sshd.pid`,
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
 * sshd's mount namespace: a tmpfs /run (its privilege-separation dir, its /run/netns), a
 * tmpfs /tmp holding only the rig's folder and, as on a clean host, no ~/.bashrc for the
 * sessions' shells (root's here runs pyenv: ~0.5 s per command, FIELD-NOTES).
 */
function sshdScript(dir: string, name: string): string {
  return [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -m755 /run/sshd /run/rig',
    `mount --bind ${dir} /run/rig`,
    'mount -t tmpfs tmpfs /tmp',
    `mkdir -p ${dir}`,
    `mount --move /run/rig ${dir}`,
    '[ ! -e "$HOME/.bashrc" ] || mount --bind /dev/null "$HOME/.bashrc"',
    `exec ${SSHD} -D -f ${dir}/${name}-sshd_config -E ${dir}/${name}-sshd.log`,
  ].join('\n');
}

function mountNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Processes in the mount namespaces `ns`: only the rig's sshds made them, so all are the rig's. */
function processesInMountNs(ns: Set<string>): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => ns.has(mountNs(p) ?? ''));
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`ssh rig: ${what} not ready within ${ms} ms`);
    await sleep(20);
  }
}

/** `underlayMtu`: the underlay links' MTU (default 1500; 9000 carries a lab's own VXLAN inside the substrate's). */
export async function startSshRig(opts: { hosts?: number; underlayMtu?: number } = {}): Promise<SshRig> {
  const count = opts.hosts ?? 1;
  const mtu = String(opts.underlayMtu ?? 1500);
  const tag = randomBytes(3).toString('hex');
  const underlay = `wlrig-${tag}-ul`;
  const dir = mkdtempSync(join(tmpdir(), `wlrig-${tag}-`));
  const names = Array.from({ length: count }, (_, i) => `h${i + 1}`);
  const namespaces = [underlay, ...names.map((n) => `wlrig-${tag}-${n}`)];
  const started: ChildProcess[] = [];
  const mounts = new Set<string>();

  const close = async (): Promise<string[]> => {
    const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    const mine = (p: number) => mounts.has(mountNs(p) ?? '') || started.some((c) => c.pid === p && running(c));
    const pids = new Set([...started.map((c) => c.pid!), ...processesInMountNs(mounts)]);
    const stopped = await terminate([...pids], mine, 2000);
    const left = (await reaped(stopped)).map((p) => `process ${p.pid}`);
    left.push(...processesInMountNs(mounts).map((p) => `process ${p} (${cmdline(p).join(' ')}) in a rig host's mount namespace`));
    run('ip', ['-force', '-batch', '-'], namespaces.map((n) => `netns delete ${n}\n`).join(''));
    const list = run('ip', ['netns', 'list']);
    left.push(...namespaces.filter((n) => list.includes(n)).map((n) => `namespace ${n}`));
    removeDir(dir);
    return left;
  };

  try {
    run('ip', ['-batch', '-'], namespaces.map((n) => `netns add ${n}\n`).join(''));
    run('ip', ['-n', underlay, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', underlay, 'link', 'set', 'br0', 'up']);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wlrig client', '-f', join(dir, 'id')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
    const hosts: RigHost[] = [];
    const knownHosts = join(dir, 'known_hosts');
    const config: string[] = [];
    for (const [i, name] of names.entries()) {
      const netns = namespaces[i + 1]!;
      const address = `10.99.0.${11 + i}`;
      // Both ends made inside their namespaces: nothing passes through the root namespace.
      run('ip', ['link', 'add', 'ul0', 'mtu', mtu, 'netns', netns, 'type', 'veth', 'peer', 'name', name, 'mtu', mtu, 'netns', underlay]);
      run('ip', ['-n', underlay, 'link', 'set', name, 'master', 'br0', 'up']);
      run('ip', ['-n', netns, '-batch', '-'], `link set lo up\naddr add ${address}/24 dev ul0\nlink set ul0 up\n`);
      const key = join(dir, `${name}_host_key`);
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `wlrig ${name}`, '-f', key]);
      writeFileSync(join(dir, `${name}-sshd_config`), sshdConfig(dir, name));
      const sshd = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', sshdScript(dir, name)], { stdio: 'ignore' });
      started.push(sshd);
      await waitFor(`sshd on ${name}`, () => /Server listening on 0\.0\.0\.0 port 22/.test(readFileSync(join(dir, `${name}-sshd.log`), { encoding: 'utf8', flag: 'a+' })));
      mounts.add(mountNs(sshd.pid!)!);
      const sock = join(dir, `${name}.sock`);
      // nodelay: what setNoDelay does on a direct connection (p90 per command 49 → 10 ms)
      started.push(spawn('ip', ['netns', 'exec', netns, 'socat', `UNIX-LISTEN:${sock},fork,mode=600`, `TCP:${address}:22,nodelay`], { stdio: 'ignore' }));
      await waitFor(`socat on ${name}`, () => existsSync(sock));
      // known_hosts as OpenSSH's own tools write it, hashed (-H)
      writeFileSync(knownHosts, run('ip', ['netns', 'exec', netns, 'ssh-keyscan', '-H', '-t', 'ed25519', address]), { flag: 'a' });
      config.push(`Host ${address}`, `  ProxyCommand socat - UNIX-CONNECT:${sock}`, `  IdentityFile ${join(dir, 'id')}`, `  UserKnownHostsFile ${knownHosts}`, '');
      hosts.push({
        name,
        netns,
        address,
        host: { name, address, keyFile: join(dir, 'id'), knownHosts },
        connection: { dial: () => connect(sock) },
        fingerprint: run('ssh-keygen', ['-l', '-f', `${key}.pub`]).split(' ')[1]!,
      });
    }
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, config.join('\n'));
    return { hosts, dir, sshConfig, mark: `warplab:wlrig-${tag}:1`, close };
  } catch (e) {
    const left = await close();
    if (left.length) console.log(`      ssh rig left: ${left.join(', ')}`);
    throw e;
  }
}
