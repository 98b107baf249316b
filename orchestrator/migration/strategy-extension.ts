// The lab-time parts of every strategy a lab can move with (service switching's tables and
// proxy ARP…), as one lab extension: started before the workloads are placed.
import { notAcrossHosts, type LabExtension } from '../lab/extension.js';
import type { Topology } from '../topology/model.js';
import { getStrategy, usableStrategies } from './strategy.js';

const partsOf = (t: Topology) => usableStrategies(t).flatMap((n) => getStrategy(n).extension ?? []);
/** The parts a lab that starts its workloads runs (only then is this extension wanted). */
const wantedParts = (t: Topology) => partsOf(t).filter((x) => x.wanted(t, { workloads: true }));

export const strategiesExtension: LabExtension = {
  name: 'strategies',
  // Each part says whether it does; one that does not is refused on a lab across hosts.
  spansHosts: true,
  wanted: (t, o) => o.workloads && t.workloads.length > 0 && partsOf(t).some((x) => x.wanted(t, o)),
  missing: async (t) => {
    const notAcross = t.hosts ? wantedParts(t).filter((x) => !x.spansHosts).map((x) => notAcrossHosts(x.name)) : [];
    return [...notAcross, ...(await Promise.all(partsOf(t).map((x) => x.missing(t)))).flat()];
  },
  needsOnNodes: (t) => wantedParts(t).flatMap((x) => x.needsOnNodes?.(t) ?? []),
  async start(lab, ctx) {
    for (const x of partsOf(lab.topology)) await x.start(lab, ctx);
  },
  async stop(labPath, state) {
    const removed: string[] = [];
    for (const x of partsOf(state.topology).reverse()) removed.push(...(await x.stop(labPath, state)));
    return removed;
  },
};
