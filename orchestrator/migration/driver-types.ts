// Migration drivers: one per workload kind, behind one interface. A driver starts its
// workload, prepares a destination, and moves it; a failed or cancelled move leaves the
// workload running at the source. It also knows how to run commands in it.
import type { LabHandle } from '../lab/handle.js';
import type { WorkloadRecord } from '../lab/state.js';
import type { EventLog } from '../probe/timeline.js';
import type { Shell } from '../shell/shell.js';
import type { WorkloadKind, WorkloadSpec } from '../topology/model.js';
import type { Announcement } from './strategy-types.js';

export interface MigrationProgress {
  phase: string;
  detail?: string;
  /** 0..1 when the driver knows. */
  fraction?: number;
}

export interface DriverContext {
  lab: LabHandle;
  workload: WorkloadSpec;
  /** The workload's files in the lab directory (on this machine). */
  dir: string;
  /** Its folder in the lab directory of `hv`'s machine (`dir` itself when that is this machine). */
  dirOn(hv: string): string;
  events: EventLog;
  /** The hypervisor interface whose LAN the workload joins on `hv` (on a move's destination, the strategy's choice). */
  portOn(hv: string): string;
  signal?: AbortSignal;
  onProgress?: (p: MigrationProgress) => void;
}

/** A destination made ready by `prepare`; `cancel` undoes it. */
export interface Prepared {
  readonly to: string;
  cancel(): Promise<void>;
}

export interface DriverResult {
  placement: WorkloadRecord;
  /** The driver's own figures (QEMU's downtime, CRIU's dump time…). */
  figures: Record<string, number | string>;
}

export interface MigrationDriver {
  readonly name: string;
  readonly kind: WorkloadKind;
  /** What the workload sends first when it resumes at the destination. */
  readonly announce: Announcement;
  /** What this machine lacks to run these workloads of the driver's kind, one sentence each. */
  missing(workloads: readonly WorkloadSpec[]): Promise<string[]>;
  /** Starts the workload on `on` and waits until its app runs. */
  start(ctx: DriverContext, on: string): Promise<WorkloadRecord>;
  prepare(ctx: DriverContext, from: WorkloadRecord, to: string): Promise<Prepared>;
  migrate(ctx: DriverContext, from: WorkloadRecord, prepared: Prepared): Promise<DriverResult>;
  /** A Shell into the workload where `at` says it runs (workload/shell.ts asks for each command). */
  shell(ctx: DriverContext, at: WorkloadRecord, where: string): Shell;
}
