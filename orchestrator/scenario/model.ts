// A scenario as plain data, after validation: what `warplab run` executes. The topology is
// resolved (loaded from its path or read inline); steps keep their kind's parsed arguments.
import type { Threshold } from '../report/thresholds.js';
import type { YamlPath } from '../topology/source.js';
import type { Topology } from '../topology/model.js';

/** A workload's two streams, both timed on its peer: its own sender → peer, and peer → echo → peer. */
export interface WorkloadStreamSpec {
  kind: 'workload';
  workload: string;
  /** The echo stream's interval (default: the workload's own interval). */
  echoIntervalMs?: number;
}

/** udp-send in `from` → udp-recv in `to` (and back with both-ways). */
export interface NodeStreamSpec {
  kind: 'nodes';
  from: string;
  to: string;
  /** Where `from` sends: `to`'s first address unless given. */
  address?: string;
  /** Where `to` answers, for the way back: `from`'s first address unless given. */
  returnAddress?: string;
  intervalMs: number;
  bothWays: boolean;
  /** Names the stream in reports; the way back gets `to→from`. */
  label: string;
}

export type StreamSpec = WorkloadStreamSpec | NodeStreamSpec;

export interface StepSpec {
  /** The registry's key: wait, migrate, switch, cut, restore, exec, reach. */
  kind: string;
  /** The kind's own arguments, parsed by its StepKind. */
  args: unknown;
  /** Where it was written: `steps[2]` or `reset[0]`. */
  path: YamlPath;
  /** `step 3` or `reset 1`: how reports name it. */
  id: string;
  /** One line: `migrate vm-a → adc-hv`. */
  description: string;
}

export interface Scenario {
  name: string;
  description?: string;
  /** The scenario file (or `<inline>`). */
  file: string;
  topology: Topology;
  /** The topology's own file, when given by path. */
  topologyFile?: string;
  /** Trials per run (the file's value; `warplab run --repeat` overrides it). */
  repeat: number;
  streams: StreamSpec[];
  /** Run in every trial while the streams record. */
  steps: StepSpec[];
  /** Run after every trial, streams stopped: bring the lab back to where a trial starts. */
  reset: StepSpec[];
  thresholds: Threshold[];
}

/** Labels of a stream as the report names them. */
export function streamLabels(s: StreamSpec, peerOf: (workload: string) => string): string[] {
  if (s.kind === 'workload') {
    const peer = peerOf(s.workload);
    return [`${s.workload}→${peer}`, `${peer}→${s.workload}→${peer}`];
  }
  return s.bothWays ? [s.label, `${s.to}→${s.from}`] : [s.label];
}
