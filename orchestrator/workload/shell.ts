// A workload's Shell: each command asks the lab where the workload runs now and goes through
// its driver's Shell there (a VM's control channel, nsenter into a container), so the same
// Shell works before and after a migration.
import { LabError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import type { WorkloadRecord } from '../lab/state.js';
import { driverFor } from '../migration/driver.js';
import { driverContext } from '../migration/migrate.js';
import { EventLog } from '../probe/timeline.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell, SpawnOptions } from '../shell/shell.js';
import type { WorkloadSpec } from '../topology/model.js';

export class WorkloadShell implements Shell {
  constructor(
    private readonly lab: LabHandle,
    private readonly w: WorkloadSpec,
  ) {}

  /** `vm vm-a on adc-hv`, as of now. */
  get where(): string {
    const at = this.lab.workload(this.w.name);
    return at ? placeText(this.w, at) : `${this.w.kind} ${this.w.name} (not running)`;
  }

  async exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.current().exec(argv, opts);
  }

  spawn(argv: readonly string[], opts?: SpawnOptions): BackgroundProcess {
    return this.current().spawn(argv, opts);
  }

  private current(): Shell {
    const at = this.lab.workload(this.w.name);
    if (!at) throw new LabError(`${this.w.name} is not running in lab ${this.lab.name} (was the lab brought up with --no-workloads?)`);
    const ctx = driverContext(this.lab, this.w, { events: new EventLog() });
    return driverFor(this.w.kind).shell(ctx, at, placeText(this.w, at));
  }
}

function placeText(w: WorkloadSpec, at: WorkloadRecord): string {
  return `${w.kind} ${w.name} on ${at.on}`;
}
