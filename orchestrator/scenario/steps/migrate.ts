// migrate: live-migrate a workload (VM or container); its strategy moves the network.
import { strategyFor } from '../../migration/strategy.js';
import type { AddressStrategy } from '../../migration/strategy-types.js';
import { schemaProblems } from '../../topology/schema.js';
import { migrateWorkload } from '../../migration/migrate.js';
import { nodeByName } from '../../topology/model.js';
import type { StepKind } from '../step.js';
import { few } from './where.js';

interface MigrateArgs {
  workload: string;
  to: string;
  strategy?: string;
  /** The strategy's settings from this move on (edge switches, trigger…). */
  settings?: Record<string, unknown>;
  switchTimeoutMs?: number;
}

export const migrateStep: StepKind<MigrateArgs> = {
  name: 'migrate',
  summary: 'live-migrate a workload: `migrate: {workload: vm-a, to: adc-hv, strategy: network-paging, settings: {…}}`',
  parse: (raw) => ({ workload: raw.workload, to: raw.to, ...(raw.strategy ? { strategy: raw.strategy } : {}), ...(raw.settings ? { settings: raw.settings } : {}), ...(raw['switch-timeout-ms'] !== undefined ? { switchTimeoutMs: raw['switch-timeout-ms'] } : {}) }),
  describe: (a) => `migrate ${a.workload} → ${a.to}${a.strategy ? ` (${a.strategy})` : ''}${a.settings ? ` ${JSON.stringify(a.settings)}` : ''}`,
  check: (a, outer) => {
    let problems = 0;
    const ctx = { ...outer, report: (...x: Parameters<typeof outer.report>) => (problems++, outer.report(...x)) };
    const t = ctx.topology;
    const hvs = t.nodes.filter((n) => n.kind === 'hypervisor').map((n) => n.name);
    const w = t.workloads.find((x) => x.name === a.workload);
    if (!w) ctx.report(['workload'], `unknown workload "${a.workload}"`, t.workloads.length ? `workloads: ${few(t.workloads.map((x) => x.name))}` : `topology ${t.name} declares no workloads`);
    else if (w.kind === 'placeholder') ctx.report(['workload'], `${w.name} is a placeholder: nothing runs in it to migrate`, `movable: ${few(t.workloads.filter((x) => x.kind !== 'placeholder').map((x) => x.name))}`);
    const dest = nodeByName(t, a.to);
    if (dest?.kind !== 'hypervisor') ctx.report(['to'], dest ? `${a.to} is ${/^[aeiou]/.test(dest.kind) ? 'an' : 'a'} ${dest.kind}; workloads move between hypervisors` : `unknown node "${a.to}"`, hvs.length ? `hypervisors: ${few(hvs)}` : 'the topology has no hypervisor');
    let strategy: AddressStrategy | undefined;
    try {
      strategy = strategyFor(t, a.strategy);
    } catch (e) {
      ctx.report(['strategy'], (e as Error).message);
    }
    const before = problems;
    if (strategy && a.settings) {
      if (!strategy.settingsSchema) ctx.report(['settings'], `strategy ${strategy.name} takes no settings`);
      else for (const p of schemaProblems(a.settings, strategy.settingsSchema, ['settings'])) ctx.report(p.path, `${p.message}${p.expected ? `; expected ${p.expected}` : ''}`, p.hint);
      if (problems === before) strategy.checkOverrides?.(t, a.settings, (path, message, hint) => ctx.report(['settings', ...path], message, hint));
    }
    if (!w || dest?.kind !== 'hypervisor') return;
    const at = ctx.sim.placement.get(w.name);
    if (at === a.to) ctx.report(['to'], `${w.name} is already on ${a.to} at this point`, 'a trial starts where the previous step (or trial) left it: migrate it elsewhere first, or bring it back in reset');
    else if (strategy && problems === before) {
      // The plan is pure: a move that cannot work is a problem of the file, not of the run.
      try {
        strategy.plan(t, w, at ?? w.on, a.to, Object.fromEntries(ctx.sim.placement), a.settings);
      } catch (e) {
        ctx.report(['to'], (e as Error).message);
      }
    }
    ctx.sim.placement.set(w.name, a.to);
  },
  run: async (a, ctx) => {
    const r = await migrateWorkload(ctx.lab, a.workload, a.to, {
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(a.strategy ? { strategy: a.strategy } : {}),
      ...(a.settings ? { settings: a.settings } : {}),
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
