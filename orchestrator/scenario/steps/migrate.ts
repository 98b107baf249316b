// migrate: live-migrate a workload (VM or container); its strategy moves the network.
import { strategyFor } from '../../migration/strategy.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { nodeByName } from '../../topology/model.js';
import type { StepKind } from '../step.js';
import { few } from './where.js';

interface MigrateArgs {
  workload: string;
  to: string;
  strategy?: string;
  switchTimeoutMs?: number;
}

export const migrateStep: StepKind<MigrateArgs> = {
  name: 'migrate',
  summary: 'live-migrate a workload: `migrate: {workload: vm-a, to: adc-hv, strategy: network-paging}`',
  parse: (raw) => ({ workload: raw.workload, to: raw.to, ...(raw.strategy ? { strategy: raw.strategy } : {}), ...(raw['switch-timeout-ms'] !== undefined ? { switchTimeoutMs: raw['switch-timeout-ms'] } : {}) }),
  describe: (a) => `migrate ${a.workload} → ${a.to}${a.strategy ? ` (${a.strategy})` : ''}`,
  check: (a, ctx) => {
    const t = ctx.topology;
    const hvs = t.nodes.filter((n) => n.kind === 'hypervisor').map((n) => n.name);
    const w = t.workloads.find((x) => x.name === a.workload);
    if (!w) ctx.report(['workload'], `unknown workload "${a.workload}"`, t.workloads.length ? `workloads: ${few(t.workloads.map((x) => x.name))}` : `topology ${t.name} declares no workloads`);
    const dest = nodeByName(t, a.to);
    if (dest?.kind !== 'hypervisor') ctx.report(['to'], dest ? `${a.to} is ${/^[aeiou]/.test(dest.kind) ? 'an' : 'a'} ${dest.kind}; workloads move between hypervisors` : `unknown node "${a.to}"`, hvs.length ? `hypervisors: ${few(hvs)}` : 'the topology has no hypervisor');
    if (a.strategy) {
      try {
        strategyFor(t, a.strategy);
      } catch (e) {
        ctx.report(['strategy'], (e as Error).message);
      }
    }
    if (!w || dest?.kind !== 'hypervisor') return;
    const at = ctx.sim.placement.get(w.name);
    if (at === a.to) ctx.report(['to'], `${w.name} is already on ${a.to} at this point`, 'a trial starts where the previous step (or trial) left it: migrate it elsewhere first, or bring it back in reset');
    ctx.sim.placement.set(w.name, a.to);
  },
  run: async (a, ctx) => {
    const r = await migrateWorkload(ctx.lab, a.workload, a.to, {
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(a.strategy ? { strategy: a.strategy } : {}),
      ...(a.switchTimeoutMs !== undefined ? { switchTimeoutMs: a.switchTimeoutMs } : {}),
      onProgress: (p) => ctx.progress(`${p.phase}${p.detail ? `: ${p.detail}` : ''}${p.fraction !== undefined ? ` ${(p.fraction * 100).toFixed(0)}%` : ''}`),
    });
    return {
      details: {
        workload: r.workload,
        from: r.from,
        to: r.to,
        driver: r.driver,
        strategy: r.strategy,
        figures: r.figures,
        switchedBy: r.switching.by,
        changes: r.switching.changes.map((c) => `${c.node}: ${c.action} ${c.detail}`),
        announceToSwitchedMs: r.switching.announceToSwitchedMs,
        switchingMs: r.switching.switchingMs,
        elapsedMs: r.elapsedMs,
      },
    };
  },
};
