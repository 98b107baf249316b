// Kind `placeholder`: a workload that holds an address and a MAC and runs nothing. The
// strategies keep network state for it like for any workload, so a lab can carry 100 moved
// VMs' worth of state without booting them; a strategy's `place` moves it (bench:strategies
// --scale does). Nothing runs in it, so it has no Shell and no live migration.
import { LabError, MigrationError } from '../../errors.js';
import type { WorkloadRecord } from '../../lab/state.js';
import type { Shell } from '../../shell/shell.js';
import type { DriverContext, MigrationDriver, Prepared } from '../driver-types.js';

export class PlaceholderDriver implements MigrationDriver {
  readonly name = 'placeholder';
  readonly kind = 'placeholder' as const;
  readonly announce = 'garp' as const;

  async missing(): Promise<string[]> {
    return [];
  }

  async start(_ctx: DriverContext, on: string): Promise<WorkloadRecord> {
    return { on, pid: 0, details: { runs: 'nothing (placeholder)' } };
  }

  async prepare(ctx: DriverContext): Promise<Prepared> {
    throw new MigrationError(`${ctx.workload.name} is a placeholder: nothing runs in it to migrate; its network state moves with the strategy's place()`);
  }

  async migrate(ctx: DriverContext): Promise<never> {
    throw new MigrationError(`${ctx.workload.name} is a placeholder: nothing runs in it to migrate`);
  }

  shell(ctx: DriverContext, _at: WorkloadRecord, where: string): Shell {
    const refuse = (): never => {
      throw new LabError(`${ctx.workload.name} is a placeholder: nothing runs in it (${where})`);
    };
    return { where, exec: async () => refuse(), spawn: refuse };
  }
}
