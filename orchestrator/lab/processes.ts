import { readFileSync } from 'node:fs';

/** Processes carry the lab's mark in their environment; a reused PID does not. */
export function carriesMark(pid: number, mark: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`WARPLAB_LAB=${mark}`);
  } catch {
    return false;
  }
}

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

/** kill(2) that ignores a process already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
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
