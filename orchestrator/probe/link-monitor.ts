// Timestamps a node's link state changes as the kernel announces them (`ip monitor`), so
// a link cut is placed on the timeline by when it happened, not by when a command ran.
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Shell } from '../shell/shell.js';
import type { TimelineEvent } from './timeline.js';

export interface LinkMonitor {
  /** Stops `ip monitor` and returns a link-down/link-up event per change of operational state. */
  stop(): Promise<TimelineEvent[]>;
}

/** `[2026-11-23T15:01:18.723755] 3: eth1@if2: <…> mtu 1500 qdisc noqueue state DOWN …` (UTC) */
const LINE = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\] \d+: ([^:@\s]+)[^:]*: <[^>]*>.* state (\w+)/;

/** Parses `ip -tshort monitor link` output (printed with TZ=UTC0) into state changes. */
export function linkEvents(output: string, node: string): TimelineEvent[] {
  const up = new Map<string, boolean>(); // links are up when monitoring starts
  const events: TimelineEvent[] = [];
  for (const line of output.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, seconds, fraction, dev, state] = m as unknown as [string, string, string | undefined, string, string];
    const isUp = state === 'UP' || state === 'UNKNOWN';
    if ((up.get(dev) ?? true) === isUp) continue;
    up.set(dev, isUp);
    const atMs = Date.parse(`${seconds}Z`) + Number(fraction ?? 0) * 1000;
    events.push({ atMs, kind: isUp ? 'link-up' : 'link-down', source: `${node}:${dev}`, detail: `ip monitor: state ${state}` });
  }
  return events;
}

/** Starts `ip monitor link` in a node; its output goes to outPath on the orchestrator. */
export async function monitorLinks(shell: Shell, node: string, outPath: string): Promise<LinkMonitor> {
  const out = createWriteStream(outPath);
  await once(out, 'open');
  const proc = shell.spawn(['ip', '-tshort', 'monitor', 'link'], { stdout: out, env: { TZ: 'UTC0' } });
  return {
    stop: async () => {
      proc.kill('SIGTERM');
      await proc.exited;
      await finished(out).catch(() => {});
      return linkEvents(readFileSync(outPath, 'utf8'), node);
    },
  };
}
