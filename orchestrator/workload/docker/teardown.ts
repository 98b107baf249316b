// What stopping a dockerd must clean up when it did not do so itself (it was killed):
// its processes, the shims it left, and the mounts under its folders.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Shell } from '../../shell/shell.js';

/** Running, not a zombie: an unreaped dockerd still answers kill(pid, 0). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once all are gone. */
export async function terminate(pids: number[], graceMs: number): Promise<void> {
  const live = pids.filter(alive);
  live.forEach((p) => signal(p, 'SIGTERM'));
  if (await waitGone(live, graceMs)) return;
  live.filter(alive).forEach((p) => signal(p, 'SIGKILL'));
  await waitGone(live, 5000);
}

export interface Shim {
  pid: number;
  id: string;
}

/** containerd-shim processes serving our containerd (found by its socket in their argv). */
export function shimsOf(containerdSocket: string): Shim[] {
  const shims: Shim[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const argv = cmdline(Number(e));
    if (!argv[0]?.includes('containerd-shim')) continue;
    const at = (flag: string) => argv[argv.indexOf(flag) + 1];
    if (at('-address') === containerdSocket && argv.includes('-id')) shims.push({ pid: Number(e), id: at('-id')! });
  }
  return shims;
}

/**
 * A shim outlives a killed dockerd/containerd and so does its container: kill the
 * container's init (its whole PID namespace goes with it), then the shim, then the socket
 * containerd 1.6 keeps for it in /run/containerd/s/ (named by a hash of address/ns/id).
 */
export async function reapShims(containerdSocket: string, namespace: string, execRoot: string): Promise<number> {
  const shims = shimsOf(containerdSocket);
  const inits: number[] = [];
  for (const s of shims) {
    try {
      const init = Number(readFileSync(join(execRoot, 'containerd', 'daemon', 'io.containerd.runtime.v2.task', namespace, s.id, 'init.pid'), 'latin1'));
      if (init > 1) inits.push(init), signal(init, 'SIGKILL');
    } catch {
      /* no task state: only the shim is left */
    }
    signal(s.pid, 'SIGKILL');
    const hash = createHash('sha256').update(join(containerdSocket, namespace, s.id)).digest('hex');
    rmSync(join('/run/containerd/s', hash), { force: true });
  }
  await waitGone([...inits, ...shims.map((s) => s.pid)], 5000);
  shims.forEach((s) => removeCgroups(s.id));
  return shims.length;
}

/**
 * runc would have removed the container's cgroups (cgroupfs driver: /docker/<id> in each
 * hierarchy, v1 or v2); nobody runs it after a kill. Empty cgroups go with rmdir.
 */
export function removeCgroups(id: string, root = '/sys/fs/cgroup'): void {
  let hierarchies: string[];
  try {
    hierarchies = [root, ...readdirSync(root).map((d) => join(root, d))];
  } catch {
    return;
  }
  for (const h of hierarchies) {
    try {
      rmdirSync(join(h, 'docker', id));
    } catch {
      /* absent, or still has processes */
    }
  }
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or under any of `roots`, in the order to unmount them: deepest first, then the latest mounted. */
export function mountsUnder(mountinfo: string, roots: readonly string[]): string[] {
  const points = mountinfo
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountPath(l.split(' ')[4]!))
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : r + '/')));
  points.sort((a, b) => b.p.split('/').length - a.p.split('/').length || b.i - a.i);
  return points.map(({ p }) => p);
}

/** Unmounts everything under `roots`; lazily when busy. Returns what is still mounted. */
export async function unmountUnder(shell: Shell, roots: readonly string[]): Promise<string[]> {
  for (const p of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), roots)) {
    const r = await shell.exec(['umount', p], { check: false });
    if (r.exitCode !== 0) await shell.exec(['umount', '-l', p], { check: false });
  }
  return mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), roots);
}
