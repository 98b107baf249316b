// Workloads come up with the lab: each driver starts its workload on its first hypervisor,
// then the strategy points the client-side translators at it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { driverFor } from '../migration/driver.js';
import { reapEngine } from './docker/index.js';
import { driverContext } from '../migration/migrate.js';
import { getStrategy } from '../migration/strategy.js';
import type { StartedLab } from '../lab/lab.js';
import { EventLog } from '../probe/timeline.js';
import type { ProgressEvent } from '../substrate/substrate.js';
import type { Topology } from '../topology/model.js';

/** A lab's Docker engine (container workloads), stopped from its folder alone. */
export async function stopWorkloadEngines(labPath: string): Promise<string[]> {
  const dir = join(labPath, 'docker');
  if (!existsSync(dir)) return [];
  await reapEngine(dir);
  return [`docker engine ${dir}`];
}

/** What this machine lacks for the topology's workloads. */
export async function workloadsMissing(t: Topology): Promise<string[]> {
  const kinds = [...new Set(t.workloads.map((w) => w.kind))];
  return (await Promise.all(kinds.map((k) => driverFor(k).missing(t.workloads.filter((w) => w.kind === k))))).flat();
}

export async function startWorkloads(lab: StartedLab, o: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void }): Promise<void> {
  const ws = lab.topology.workloads;
  if (!ws.length) return;
  let done = 0;
  o.onProgress?.({ stage: 'workloads', done, total: ws.length });
  const strategy = getStrategy(lab.topology.migration!.strategy);
  await Promise.all(
    ws.map(async (w) => {
      const ctx = driverContext(lab, w, { events: new EventLog(), ...(o.signal ? { signal: o.signal } : {}) });
      lab.recordWorkload(w.name, await driverFor(w.kind).start(ctx, w.on));
      await strategy.place(lab, w, w.on);
      o.onProgress?.({ stage: 'workloads', done: ++done, total: ws.length });
    }),
  );
}
