import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { Shell } from '../shell/shell.js';

/** Processes carry the lab's mark in their environment; a reused PID does not, nor does a zombie (its environment is gone). */
export function carriesMark(pid: number, mark: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`WARPLAB_LAB=${mark}`);
  } catch {
    return false;
  }
}

/** The fields of /proc/PID/stat after the command name: [0] state, [1] parent, [19] start time. */
function stat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Running, not a zombie: something left to signal. A zombie has exited and released its
 * namespaces, but keeps its PID (and still answers kill(pid, 0)) until its parent reaps it.
 */
export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s[0] !== 'Z';
}

/** One process for good: a PID is reused only once its process is reaped, and then with another start time. */
export interface ProcessId {
  pid: number;
  /** Clock ticks since boot. */
  start: number;
}

export function processId(pid: number): ProcessId | undefined {
  const s = stat(pid);
  return s ? { pid, start: Number(s[19]) } : undefined;
}

/** Still holds its PID: running, or a zombie its parent has not reaped yet. */
export function unreaped(p: ProcessId): boolean {
  return stat(p.pid)?.[19] === String(p.start);
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export function waitGone(pids: number[], ms: number): Promise<boolean> {
  return waitUntil(() => !pids.some(alive), ms);
}

/** kill(2) that ignores a process already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, each signal only to a process that `owned` (its
 * mark, say) still claims at that moment: one that exited meanwhile is skipped, and so is
 * its PID if someone else has it by then. Resolves once none runs (or 5 s after SIGKILL),
 * with what it stopped: zombies until their parents reap them (see `reaped`).
 */
export async function terminate(pids: readonly number[], owned: (pid: number) => boolean, graceMs: number): Promise<ProcessId[]> {
  const procs = pids.filter(owned).flatMap((p) => processId(p) ?? []);
  const send = (sig: NodeJS.Signals) => procs.filter((p) => owned(p.pid)).forEach((p) => signal(p.pid, sig));
  const live = procs.map((p) => p.pid);
  send('SIGTERM');
  if (!(await waitGone(live, graceMs))) {
    send('SIGKILL');
    await waitGone(live, 5000);
  }
  return procs;
}

/**
 * Waits up to `ms` for every one of `procs` to be reaped by its parent: an orphan's parent
 * is init, which reaps at its own pace (about once a second here). Says which are left
 * after that, and returns them.
 */
export async function reaped(procs: readonly ProcessId[], ms = 5000): Promise<ProcessId[]> {
  await waitUntil(() => !procs.some(unreaped), ms);
  const left = procs.filter(unreaped);
  for (const p of left) {
    const [state, parent] = stat(p.pid) ?? [];
    process.stderr.write(
      state === 'Z'
        ? `warplab: process ${p.pid} has exited, but its parent, pid ${parent} (${cmdline(Number(parent))[0] ?? '?'}), has not reaped it within ${ms / 1000} s; it holds nothing but its PID\n`
        : `warplab: process ${p.pid} still runs (state ${state}) after SIGKILL\n`,
    );
  }
  return left;
}

/** The inode of a process's network namespace: what names the namespace once the process is gone. */
export function netnsInode(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

/** Host processes inside any of `inodes`' network namespaces, except `skip` and those in `skipPidNs`. */
export function processesIn(inodes: Set<number>, skip: Set<number>, skipPidNs?: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || skip.has(Number(d))) continue;
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${d}/ns/net`))?.[1]);
      if (!inodes.has(ino)) continue;
      if (skipPidNs && readlinkSync(`/proc/${d}/ns/pid`) === skipPidNs) continue;
      out.push(Number(d));
    } catch {
      /* exited meanwhile, or a kernel thread */
    }
  }
  return out;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, to `pid` while it carries the lab's mark, through a
 * node's Shell: it works wherever the node runs (an SSH host's PID means nothing here).
 * Resolves once it is gone (a zombie has no environment left: gone).
 */
export async function endThrough(shell: Shell, pid: number, mark: string, graceMs: number): Promise<void> {
  const script = [
    'owned() { tr "\\0" "\\n" < /proc/$1/environ 2>/dev/null | grep -qxF "WARPLAB_LAB=$2"; }',
    'owned "$1" "$2" || exit 0',
    'kill -TERM "$1" 2>/dev/null',
    'i=0; while [ "$i" -lt "$3" ] && owned "$1" "$2"; do sleep 0.05; i=$((i+1)); done',
    'owned "$1" "$2" && kill -KILL "$1" 2>/dev/null',
    'i=0; while [ "$i" -lt 100 ] && owned "$1" "$2"; do sleep 0.05; i=$((i+1)); done',
    'exit 0',
  ].join('\n');
  await shell.exec(['sh', '-c', script, 'sh', String(pid), mark, String(Math.ceil(graceMs / 50))]);
}
