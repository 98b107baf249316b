// A lock file for read-modify-writes of one lab's state by several warplab processes (a
// `run --lab` beside a `migrate`). It names its holder by PID and start time; a holder that
// died (crashed, SIGKILL) leaves it behind, and the next writer breaks it. Hand-written
// rather than flock(2), which Node lacks without a native addon.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LabError } from '../errors.js';
import { alive, processId, unreaped, type ProcessId } from './processes.js';

const self = processId(process.pid)!;
const name = (p: ProcessId) => `${p.pid}-${p.start}`;

function holder(path: string): ProcessId | undefined {
  try {
    const [pid, start] = readFileSync(path, 'utf8').split('-').map(Number);
    return { pid: pid!, start: start! };
  } catch {
    return undefined;
  }
}

/** Creates `path` naming this process, content and name at once (link(2) fails if it exists). */
function claim(path: string): boolean {
  const tmp = `${path}.${name(self)}.tmp`;
  writeFileSync(tmp, name(self), { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes `path` if its holder is dead. Several waiters may find the same dead holder: only
 * the one that claims `path.HOLDER` removes it, and only while it still names that holder
 * (who, dead, never takes it again), so a lock taken meanwhile by a live process is never
 * removed. A claimant that died in between leaves its claim, which is broken the same way.
 */
function breakIfStale(path: string): void {
  const h = holder(path);
  if (!h || (unreaped(h) && alive(h.pid))) return;
  const token = `${path}.${name(h)}`;
  if (!claim(token)) return breakIfStale(token);
  try {
    const now = holder(path);
    if (now && name(now) === name(h)) rmSync(path);
  } finally {
    rmSync(token, { force: true });
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Runs `fn` holding the lock `path`; waits up to `timeoutMs` for a live holder. */
export function withLock<T>(path: string, fn: () => T, timeoutMs = 30_000): T {
  const deadline = Date.now() + timeoutMs;
  while (!claim(path)) {
    const h = holder(path);
    if (h && name(h) === name(self)) throw new LabError(`${path}: this process holds it already (a state update inside another)`);
    breakIfStale(path);
    if (Date.now() > deadline) throw new LabError(`${path}: held by process ${h?.pid} for more than ${timeoutMs / 1000} s`);
    Atomics.wait(pause, 0, 0, 1 + Math.random() * 3); // a synchronous sleep: callers are synchronous
  }
  try {
    return fn();
  } finally {
    rmSync(path, { force: true }); // force: fn may have removed the whole lab directory
  }
}
