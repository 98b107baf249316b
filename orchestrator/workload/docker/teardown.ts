// What stopping a dockerd must clean up when it did not do so itself (it was killed):
// its processes, the shims it left, and the mounts under its folders.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cmdline, signal, waitGone } from '../../lab/processes.js';

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
