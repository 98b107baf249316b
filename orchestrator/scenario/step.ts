// One small interface per step kind, and a registry: the loader checks a step with its kind,
// the runner runs it with its kind. Adding a kind is one file and one line in steps/index.ts
// (plus its arguments in topologies/scenario.schema.json, which a unit test keeps in step).
import type { LabHandle } from '../lab/handle.js';
import type { EventLog } from '../probe/timeline.js';
import type { Measurement } from '../report/measurements.js';
import type { Topology } from '../topology/model.js';
import type { YamlPath } from '../topology/source.js';

/** Where things are while checking a scenario: the runner's state, simulated from the file. */
export interface Simulation {
  /** Workload → hypervisor it is on. */
  placement: Map<string, string>;
  /** Links (by index in the topology) cut and not yet restored, with where they were cut. */
  cut: Map<number, YamlPath>;
}

export interface CheckContext {
  topology: Topology;
  sim: Simulation;
  /** The step's own path in the file (`steps[2].cut`). */
  at: YamlPath;
  /** A problem at a path below the step's arguments (`[]`: the arguments themselves). */
  report(sub: YamlPath, message: string, hint?: string): void;
}

/** What a run knows once its lab is up; kinds keep what they resolved here. */
export interface RunContext {
  lab: LabHandle;
  /** Nodes whose link state changes are recorded in every trial (`ip monitor`). */
  monitored: Set<string>;
  /** Resolved per run and kept by the kinds that need it (e.g. a link's device). */
  cache: Map<string, unknown>;
  signal?: AbortSignal;
}

export interface StepContext extends RunContext {
  /** The trial's timeline: what the step did, when. */
  events: EventLog;
  /** A line for the progress display. */
  progress(detail: string): void;
}

export interface StepOutcome {
  /** The step ran but its expectation did not hold (an assertion): one line each. */
  failures?: string[];
  /** Figures worth keeping in the run's summary (a migration's driver figures…). */
  details?: Record<string, unknown>;
  /** A series the step measured (RTTs, response times): a row of the reports' measurement table. */
  measurement?: Measurement;
}

export interface StepKind<A = any> {
  /** The key a step is written with: `- migrate: {...}`. */
  readonly name: string;
  /** One line for help and the README. */
  readonly summary: string;
  /** Arguments from the YAML value (already valid against the schema). */
  parse(raw: any): A;
  describe(args: A): string;
  /** What the schema cannot say, against the topology and the simulated state. */
  check(args: A, ctx: CheckContext): void;
  /** Once per run, after the lab is up and before the first trial. */
  setup?(args: A, ctx: RunContext): Promise<void>;
  /** Throws when the step could not be done; returns failures when it ran but did not hold. */
  run(args: A, ctx: StepContext): Promise<StepOutcome | void>;
}
