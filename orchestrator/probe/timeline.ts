// Events from the rest of warplab, and the windows and switching times derived from them.
import { durationUs, realtimeNowMs } from './clock.js';

export const eventKinds = [
  'migration-started',
  'source-stopped',
  'destination-resumed',
  'migration-completed',
  'rarp-seen',
  'arp-seen',
  'translator-switched',
  'network-changed',
  'first-packet-new-path',
  'link-down',
  'link-up',
  'note',
] as const;
export type EventKind = (typeof eventKinds)[number];

export interface TimelineEvent {
  /** CLOCK_REALTIME epoch ms on the orchestrator's clock (see clock.ts). */
  atMs: number;
  kind: EventKind;
  /** Who saw it: a node, a capture, the orchestrator. */
  source: string;
  detail?: string;
  /** The event happened within atMs ± this (e.g. a command's start and end). */
  uncertaintyMs?: number;
}

/** Collects events as they happen; hand `events` to the run. */
export class EventLog {
  readonly events: TimelineEvent[] = [];

  record(kind: EventKind, source: string, detail?: string): TimelineEvent {
    return this.add({ atMs: realtimeNowMs(), kind, source, ...(detail ? { detail } : {}) });
  }

  add(e: TimelineEvent): TimelineEvent {
    this.events.push(e);
    return e;
  }
}

/** A stretch of time in which the stream is expected to be disturbed. */
export interface DisruptionWindow {
  label: string;
  kind: 'migration' | 'link-cut';
  startMs: number;
  endMs: number;
  /** RARP seen → first packet delivered on the new path (migrations with both events). */
  switchingMs: number | null;
  /** The destination's `destination-resumed` event (migrations that have one). */
  resumedMs: number | null;
}

const migrationEnds: readonly EventKind[] = ['destination-resumed', 'translator-switched', 'network-changed', 'first-packet-new-path'];

/**
 * A migration window runs from `migration-started` to `migration-completed`, or else to the
 * last resume/switch/first-packet event before the next migration; a link cut from
 * `link-down` to the next `link-up`. A start without any end event gives an instant.
 */
export function windowsFromEvents(events: readonly TimelineEvent[]): DisruptionWindow[] {
  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  const windows: DisruptionWindow[] = [];
  sorted.forEach((e, i) => {
    const later = sorted.slice(i + 1);
    if (e.kind === 'migration-started') {
      const next = later.findIndex((x) => x.kind === 'migration-started');
      const own = next < 0 ? later : later.slice(0, next);
      const completed = own.find((x) => x.kind === 'migration-completed');
      const ends = own.filter((x) => migrationEnds.includes(x.kind));
      const endMs = completed?.atMs ?? ends.at(-1)?.atMs ?? e.atMs;
      const rarp = own.find((x) => x.kind === 'rarp-seen' || x.kind === 'arp-seen');
      const first = rarp && own.find((x) => x.kind === 'first-packet-new-path' && x.atMs >= rarp.atMs);
      const resumed = own.find((x) => x.kind === 'destination-resumed');
      const n = windows.filter((w) => w.kind === 'migration').length + 1;
      windows.push({ label: `migration ${n}`, kind: 'migration', startMs: e.atMs, endMs, switchingMs: rarp && first ? durationUs(first.atMs - rarp.atMs) : null, resumedMs: resumed?.atMs ?? null });
    } else if (e.kind === 'link-down') {
      const upAt = later.find((x) => x.kind === 'link-up' && x.source === e.source)?.atMs ?? e.atMs;
      const n = windows.filter((w) => w.kind === 'link-cut').length + 1;
      windows.push({ label: `link cut ${n}`, kind: 'link-cut', startMs: e.atMs, endMs: upAt, switchingMs: null, resumedMs: null });
    }
  });
  return windows;
}
