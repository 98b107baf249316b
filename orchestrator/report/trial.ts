// One trial's analysed result: what metrics, thresholds and renderers read of a run.
import type { StreamAnalysis } from '../probe/analysis.js';
import type { SenderSummary } from '../probe/stream.js';
import type { DisruptionWindow, EventKind } from '../probe/timeline.js';

export interface StreamResult {
  label: string;
  workload?: string;
  analysis: StreamAnalysis;
  /** The sender's own counters: send errors and skipped slots explain gaps without loss. */
  sender: SenderSummary | null;
}

/** What the analysis puts on a trial's timeline beside the recorded events. */
export const streamLandmarks = ['first arrival', 'last arrival', 'downtime gap', 'disruption', 'noise-floor gap', 'did not resume'] as const;

export interface TimelineEntry {
  atMs: number;
  /** Since the trial's origin (its first event or arrival). */
  relMs: number;
  kind: EventKind | (typeof streamLandmarks)[number];
  source: string;
  detail?: string;
}

export interface TrialResult {
  label: string;
  originMs: number;
  windows: DisruptionWindow[];
  streams: StreamResult[];
  /** Events and the stream's landmarks merged in time order. */
  timeline: TimelineEntry[];
}
