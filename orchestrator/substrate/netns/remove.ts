// Deleting a lab's named namespaces through a Shell on the machine that has them (this one,
// or an SSH host): only those that carry the lab's mark, after the processes inside them.
import { ExecError } from '../../errors.js';
import type { LabState } from '../../lab/state.js';
import type { Shell } from '../../shell/shell.js';

const GRACE_MS = 2000;

/** The mark on a namespace's lo; undefined when it has none; null when it is gone or unenterable. */
async function markOf(host: Shell, ns: string): Promise<string | undefined | null> {
  const r = await host.exec(['ip', '-n', ns, '-o', 'link', 'show', 'lo'], { check: false });
  if (r.exitCode !== 0) return null;
  return /alias (\S+)/.exec(r.stdout)?.[1];
}

async function pidsIn(host: Shell, names: string[]): Promise<string[]> {
  const script = 'for ns; do ip netns pids "$ns" 2>/dev/null; done';
  return (await host.exec(['sh', '-c', script, 'sh', ...names], { check: false })).stdout.split('\n').filter((p) => /^\d+$/.test(p));
}

export interface RemovedNamespaces {
  /** One line per thing removed. */
  removed: string[];
  /** The PIDs signalled, as the host numbers them. */
  signalled: number[];
}

/**
 * `beforeSignal` sees PIDs before they are signalled (the local substrate notes them, to wait
 * for their reaping). A namespace without a mark is the lab's only while `up` was still
 * creating it (a crash before marking); so is an unenterable namespace file then.
 */
export async function removeNamespaces(host: Shell, names: string[], state: LabState, beforeSignal: (pids: number[]) => void = () => {}): Promise<RemovedNamespaces> {
  const removed: string[] = [];
  const signalled: number[] = [];
  const doomed: string[] = [];
  for (const ns of names) {
    const m = await markOf(host, ns);
    if (m === null) {
      if (state.status === 'creating' && (await host.exec(['test', '-e', `/run/netns/${ns}`], { check: false })).exitCode === 0) doomed.push(ns);
      continue;
    }
    if (m === state.mark || (m === undefined && state.status === 'creating')) doomed.push(ns);
    else process.stderr.write(`warplab: leaving namespace ${ns} on ${host.where}: it carries ${m ? `mark ${m}` : 'no mark'}, not ${state.mark}\n`);
  }
  if (!doomed.length) return { removed, signalled };
  // Processes inside the lab's own namespaces are the lab's: stop them before the namespace goes.
  for (const sig of ['TERM', 'KILL'] as const) {
    const pids = await pidsIn(host, doomed);
    if (!pids.length) break;
    beforeSignal(pids.map(Number));
    signalled.push(...pids.map(Number));
    await host.exec(['kill', `-${sig}`, ...pids], { check: false });
    removed.push(...pids.map((p) => `process ${p} (SIG${sig})`));
    if (sig === 'TERM') {
      const deadline = Date.now() + GRACE_MS;
      while (Date.now() < deadline && (await pidsIn(host, doomed)).length) await new Promise((r) => setTimeout(r, 50));
    }
  }
  const argv = ['ip', '-force', '-batch', '-'];
  const r = await host.exec(argv, { input: doomed.map((n) => `netns del ${n}\n`).join(''), check: false });
  if (r.exitCode !== 0) throw new ExecError(argv, host.where, r.exitCode, r.stdout, r.stderr, r.durationMs);
  removed.push(...doomed.map((n) => `netns ${n}`));
  return { removed, signalled };
}
