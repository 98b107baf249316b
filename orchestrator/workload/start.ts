// Workloads as a lab extension: each driver starts its workload on its first hypervisor,
// then the topology's strategy makes the network reach it there. Stopping ends the
// engines (a lab's Docker engine) that the namespaces' deletion would not.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabExtension } from '../lab/extension.js';
import { driverFor } from '../migration/driver.js';
import { driverContext } from '../migration/migrate.js';
import { strategyFor } from '../migration/strategy.js';
import { pool } from '../pool.js';
import { EventLog } from '../probe/timeline.js';
import type { Topology } from '../topology/model.js';
import { reapEngine } from './docker/index.js';

/** What this machine lacks for the topology's workloads. */
export async function workloadsMissing(t: Topology): Promise<string[]> {
  const kinds = [...new Set(t.workloads.map((w) => w.kind))];
  // A checkpoint lives in the lab directory of the machine that took it; nothing copies it to another host yet.
  const acrossHosts = t.hosts ? t.workloads.filter((w) => w.kind === 'container').map((w) => `${w.name} is a container: container workloads do not run on labs across SSH hosts yet (CRIU checkpoints are not copied between hosts); VM and placeholder workloads do`) : [];
  return [...acrossHosts, ...(await Promise.all(kinds.map((k) => driverFor(k).missing(t.workloads.filter((w) => w.kind === k))))).flat()];
}

const STARTING_AT_ONCE = 8;

export const workloadsExtension: LabExtension = {
  name: 'workloads',
  // Through the nodes' Shells and machines (VMs and placeholders; containers are refused above).
  spansHosts: true,
  wanted: (t, o) => o.workloads && t.workloads.length > 0,
  missing: workloadsMissing,
  // A VM may move to any hypervisor: QEMU on each one's host.
  needsOnNodes: (t) => (t.workloads.some((w) => w.kind === 'vm') ? t.nodes.filter((n) => n.kind === 'hypervisor').map((n) => ({ node: n.name, command: 'qemu-system-x86_64', install: 'apt-get install qemu-system-x86' })) : []),
  async start(lab, ctx) {
    const ws = lab.topology.workloads;
    let done = 0;
    ctx.onProgress?.({ stage: 'workloads', done, total: ws.length });
    const strategy = strategyFor(lab.topology);
    // A few at a time: each place() talks to the routers' agents, and a translator agent serves
    // 64 control clients at once (a lab with 100 placeholders exceeded it).
    const started = await pool(ws, STARTING_AT_ONCE, async (w) => {
      const dc = driverContext(lab, w, { events: new EventLog(), ...(ctx.signal ? { signal: ctx.signal } : {}) });
      lab.recordWorkload(w.name, await driverFor(w.kind).start(dc, w.on));
      await strategy.place(lab, w, w.on);
      ctx.onProgress?.({ stage: 'workloads', done: ++done, total: ws.length });
    });
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  },
  async stop(labPath, state) {
    // A lab's Docker engine (container workloads) stops its containers, shims and mounts in
    // order; the docker substrate's own engine goes with its nodes, in the substrate's destroy.
    const dir = join(labPath, 'docker');
    if (!existsSync(dir) || state.objects.some((o) => o.kind === 'docker-engine' && o.name === dir)) return [];
    await reapEngine(dir);
    return [`docker engine ${dir}`];
  },
};
