// reach: assert that a node or a workload reaches (or does not reach) another, by ping — e.g.
// the ICN 2011 extranet's access-control matrix, or a migrated VM that initiates traffic.
import type { StepKind } from '../step.js';
import { checkRunner, checkTarget, runnerShell, targetAddress, targetText } from './where.js';

interface ReachArgs {
  /** A node or a workload. */
  from: string;
  /** A node, a workload or an address. */
  to: string;
  expect: boolean;
}

export const reachStep: StepKind<ReachArgs> = {
  name: 'reach',
  summary: 'assert reachability by ping: `reach: {from: H3, to: H5, expect: unreachable}`',
  parse: (raw) => ({ from: raw.from, to: raw.to, expect: raw.expect === 'reachable' }),
  describe: (a) => `reach ${a.from} → ${a.to}: ${a.expect ? 'reachable' : 'unreachable'}`,
  check: (a, ctx) => {
    checkRunner(ctx, ['from'], a.from);
    checkTarget(ctx, ['to'], a.to);
  },
  run: async (a, ctx) => {
    const addr = targetAddress(ctx.lab.topology, a.to)!;
    // Two tries: the first ping of a fresh path may be lost to ARP resolution.
    const r = await runnerShell(ctx.lab, a.from).exec(['ping', '-n', '-c2', '-i0.2', '-W1', addr], { check: false, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const reached = r.exitCode === 0;
    if (reached === a.expect) return;
    return { failures: [`${a.from} ${reached ? 'reached' : 'did not reach'} ${targetText(a.to, addr)}; expected ${a.expect ? 'reachable' : 'unreachable'}`] };
  },
};
