// Flood-and-learn has no switch to time: the VTEPs learn the moved MAC from its own frames.
// `bridge -t monitor fdb` on every VTEP, started when the move is armed, says when each one
// learned it at its new place; those become the move's network changes.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../../../lab/handle.js';
import type { NetworkChange } from '../../strategy-types.js';
import { startMonitors } from '../monitors.js';

export interface Learned {
  atMs: number;
  /** The FDB entry as `bridge monitor` printed it. */
  entry: string;
}

/**
 * The entries for `mac` in `bridge -t monitor fdb` output, oldest first; removals left out.
 * Each entry follows a line `Timestamp: Sun Dec  6 05:38:57 2026 73115 usec` (local time).
 */
export function parseFdbMonitor(text: string, mac: string): Learned[] {
  const out: Learned[] = [];
  let at: number | undefined;
  for (const line of text.split('\n')) {
    const ts = /^Timestamp: (.+) (\d+) usec$/.exec(line);
    if (ts) at = new Date(ts[1]!).getTime() + Number(ts[2]) / 1000;
    else if (at !== undefined && line.toLowerCase().startsWith(mac.toLowerCase() + ' ')) out.push({ atMs: at, entry: line.trim() });
  }
  return out;
}

export interface FdbMonitors {
  /** Each VTEP's first entry for `mac` at its new place (`isNew`), waiting up to `waitMs` for all of them. */
  learned(mac: string, isNew: (node: string, entry: string) => boolean, waitMs: number): Promise<NetworkChange[]>;
  stop(): void;
}

/** A monitor on every VTEP, wherever it runs; its times on this machine's clock. */
export async function startFdbMonitors(lab: LabHandle, dir: string, nodes: string[]): Promise<FdbMonitors> {
  const mons = await startMonitors(lab, dir, 'fdb', nodes, ['bridge', '-t', 'monitor', 'fdb']);
  return {
    async learned(mac, isNew, waitMs) {
      const firsts = () => mons.flatMap((m) => (existsSync(m.log) ? parseFdbMonitor(readFileSync(m.log, 'utf8'), mac).filter((l) => isNew(m.node, l.entry)).slice(0, 1).map((l) => ({ node: m.node, ...l })) : []));
      for (const deadline = Date.now() + waitMs; firsts().length < mons.length && Date.now() < deadline; await sleep(10));
      return firsts().map((l) => ({ node: l.node, action: 'fdb-learned', detail: l.entry, atMs: lab.onOrchestratorClock(l.node, l.atMs) }));
    },
    stop() {
      for (const m of mons) m.proc.kill('SIGTERM');
    },
  };
}
