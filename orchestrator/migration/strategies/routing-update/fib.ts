// Route convergence: `ip -ts monitor route` on every router from arm time on, read back as
// one `fib` change per router that changed its route to the moved /32 (its last change: the
// one it forwards by now), so a report shows when each router's FIB followed.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../../../lab/handle.js';
import type { NetworkChange } from '../../strategy-types.js';
import { startMonitors } from '../monitors.js';

/** BGP updates propagate in milliseconds; this much quiet after the last FIB change ends the wait. */
const QUIET_MS = 300;
const LIMIT_MS = 5000;

export interface FibEvent {
  atMs: number;
  /** The route as `ip monitor` prints it, `Deleted …` for a removal. */
  route: string;
}

/** `[2026-12-06T06:05:53.064875] Deleted 10.9.9.9 via … ` lines for `address` (ip -ts prints local time). */
export function parseFibLog(text: string, address: string): FibEvent[] {
  const re = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\] ((?:Deleted )?(\S+) .*?)\s*$/;
  return text.split('\n').flatMap((l) => {
    const m = re.exec(l);
    if (!m || (m[4] !== address && m[4] !== `${address}/32`)) return [];
    return [{ atMs: new Date(m[1]!).getTime() + Number(`0.${m[2]}`) * 1000, route: m[3]! }];
  });
}

/** Each router's last change at or after `sinceMs`; `onClock` puts a router's own times on `sinceMs`'s clock. */
export function convergence(logs: Map<string, string>, address: string, sinceMs: number, onClock: (node: string, atMs: number) => number = (_n, t) => t): NetworkChange[] {
  return [...logs].flatMap(([node, text]) => {
    const last = parseFibLog(text, address)
      .map((e) => ({ ...e, atMs: onClock(node, e.atMs) }))
      .filter((e) => e.atMs >= sinceMs)
      .at(-1);
    return last ? [{ node, action: 'fib', detail: last.route, atMs: last.atMs }] : [];
  });
}

export interface FibMonitor {
  /** Waits for the FIBs to go quiet after `sinceMs`, stops watching, returns each router's convergence. */
  collect(address: string, sinceMs: number): Promise<NetworkChange[]>;
  stop(): void;
}

/** `ip -ts monitor route` on every router, wherever it runs; its times on this machine's clock. */
export async function startFibMonitors(lab: LabHandle, dir: string, routers: string[]): Promise<FibMonitor> {
  const mons = await startMonitors(lab, dir, 'fib', routers, ['ip', '-ts', 'monitor', 'route']);
  const read = () => new Map(mons.map((m) => [m.node, existsSync(m.log) ? readFileSync(m.log, 'utf8') : '']));
  const stop = () => mons.forEach((m) => m.proc.kill('SIGTERM'));
  return {
    stop,
    async collect(address, sinceMs) {
      // At least QUIET_MS from now: an update may still be on its way.
      const calledAt = Date.now();
      const latest = () => Math.max(calledAt, ...[...read().values()].flatMap((t) => parseFibLog(t, address).map((e) => e.atMs)));
      for (const deadline = Date.now() + LIMIT_MS; Date.now() < deadline && Date.now() - latest() < QUIET_MS; ) await sleep(20);
      stop();
      return convergence(read(), address, sinceMs, (node, t) => lab.onOrchestratorClock(node, t));
    },
  };
}
