// The lab-time parts of every strategy a lab can move with (service switching's tables and
// proxy ARP…), as one lab extension: started before the workloads are placed.
import type { LabExtension } from '../lab/extension.js';
import type { Topology } from '../topology/model.js';
import { getStrategy, usableStrategies } from './strategy.js';

const partsOf = (t: Topology) => usableStrategies(t).flatMap((n) => getStrategy(n).extension ?? []);

export const strategiesExtension: LabExtension = {
  name: 'strategies',
  wanted: (t, o) => o.workloads && t.workloads.length > 0 && partsOf(t).some((x) => x.wanted(t, o)),
  missing: async (t) => (await Promise.all(partsOf(t).map((x) => x.missing(t)))).flat(),
  async start(lab, ctx) {
    for (const x of partsOf(lab.topology)) await x.start(lab, ctx);
  },
  async stop(labPath, state) {
    const removed: string[] = [];
    for (const x of partsOf(state.topology).reverse()) removed.push(...(await x.stop(labPath, state)));
    return removed;
  },
};
