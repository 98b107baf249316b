import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { join, resolve } from 'node:path';
import type { MigrationProgress } from '../../migration/driver-types.js';
import { measuredMigration } from '../../migration/measured.js';
import { migrateWorkload, planMove, workloadSpec, type MigrationResult } from '../../migration/migrate.js';
import { strategyNames, getStrategy } from '../../migration/strategy.js';
import type { MovePlan } from '../../migration/strategy-types.js';
import { readingIn } from '../../report/format.js';
import { readingOf } from '../../report/metrics.js';
import type { ProbeRun } from '../../report/run.js';
import { interruptible, printJson, stateDirOption, table } from '../output.js';

const fmt = (v: number | string) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);

export function printMigration(r: MigrationResult): void {
  const rel = (ms: number) => (r.switching.announce ? `+${(ms - r.switching.announce.atMs).toFixed(3)} ms after the ${r.switching.announce.kind}` : '');
  console.log(`${r.workload} (${r.kind}) moved ${r.from} → ${r.to} by ${r.driver}, network by ${r.strategy} (${r.elapsedMs.toFixed(0)} ms in all)`);
  console.log(table(['driver figure', 'value'], Object.entries(r.figures).map(([k, v]) => [k, fmt(v)])));
  for (const c of r.switching.changes) console.log(`  ${c.node}: ${c.action} ${c.detail}  ${rel(c.atMs)}${c.kernelUs !== undefined ? ` (kernel ${c.kernelUs} µs)` : ''}`);
  if (r.switching.announceToSwitchedMs !== null) console.log(`announcement → network switched: ${r.switching.announceToSwitchedMs.toFixed(3)} ms (${r.switching.by})`);
  if (r.switching.switchingMs !== null) console.log(`switching time (announcement → first packet on the new path): ${r.switching.switchingMs.toFixed(3)} ms`);
}

export function printPlan(p: MovePlan): void {
  console.log(`plan: ${p.workload} ${p.from} → ${p.to}, network by ${p.strategy}, triggered by ${p.trigger === 'announcement' ? "the workload's announcement (RARP/gratuitous ARP)" : 'warplab when the driver reports completion'}`);
  console.log(table(['when', 'node', 'action', 'detail'], p.changes.map((c) => [c.when === 'arm' ? 'before the move' : 'at the trigger', c.node, c.action, c.detail])));
}

/** Per stream of the move's one trial: its gap (or that it did not resume), when the workload was back. */
function readings(run: ProbeRun) {
  const t = run.trials[0]!;
  return t.streams.map((s) => ({ s, gap: readingOf('downtimeMs', t, s), back: readingOf('resumeToFirstPacketMs', t, s) }));
}

/** `--json`'s probe streams; downtimeMs of a stream that did not resume is its silence until the end. */
function probeStreams(run: ProbeRun) {
  return readings(run).map(({ s, gap, back }) => ({ stream: s.label, resumed: !gap.didNotResume, downtimeMs: gap.value, resumeToFirstPacketMs: back.didNotResume ? null : back.value, received: s.analysis.received, lost: s.analysis.lost }));
}

export function probeTable(run: ProbeRun): string {
  const rows = readings(run).map(({ s, gap, back }) => [s.label, readingIn('ms', gap), readingIn('ms', back), String(s.analysis.received), String(s.analysis.lost)]);
  return table(['stream', 'largest gap', 'resume → first packet from the workload', 'received', 'lost'], rows);
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('live-migrate a workload (VM or container) to another hypervisor; the network follows')
    .argument('<lab>', 'lab name')
    .argument('<workload>', 'workload name (see `warplab inspect LAB`)')
    .requiredOption('--to <hypervisor>', 'destination hypervisor node')
    .option('--strategy <name>', "how the network follows (default: the topology's migration.strategy)")
    .option('--dry-run', 'print what the strategy would change where, and move nothing')
    .option('--no-probe', "do not record the workload's UDP streams during the move")
    .option('--out <dir>', 'where the probe run goes (default: warplab-runs/migrate-LAB-WORKLOAD-TIME)')
    .option('--echo-interval-ms <ms>', "interval of the client's stream to the workload's echo (default: the workload's)", Number)
    .addOption(stateDirOption())
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
VMs move with QEMU live migration over the topology's migration network; containers with
a CRIU checkpoint restored into the destination. The strategy first plans every network
change as data (--dry-run prints that plan), then its trigger carries it out; the time of
each change is printed. Strategies (a topology may set up several, under migration.NAME):
${strategyNames().map((n) => `  ${n}: ${getStrategy(n).summary}`).join('\n')}

The UDP probe records the workload's two streams (workload → client, client → workload's
echo → client) across the move and writes the run's reports (report.json, Markdown,
JUnit, SVG) to --out, even when the move fails.

A failed or interrupted migration leaves the workload running at the source and the
network unchanged, and exits 1 (130 on Ctrl-C).

Example (the paper's experiment: PDC → ADC and back):
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab migrate icoin vm-a --to adc-hv --dry-run
  $ sudo warplab migrate icoin vm-a --to adc-hv
  $ sudo warplab migrate icoin vm-a --to pdc-hv --json`)
    .action(async (name: string, workload: string, opts: { to: string; strategy?: string; dryRun?: boolean; stateDir: string; json?: boolean; probe: boolean; out?: string; echoIntervalMs?: number }) => {
      const lab = attach(name, opts.stateDir);
      if (opts.dryRun) {
        const plan = planMove(lab, workload, opts.to, opts.strategy ? { strategy: opts.strategy } : {});
        return opts.json ? printJson(plan) : printPlan(plan);
      }
      const irq = interruptible();
      const live = !!process.stderr.isTTY && !process.env.CI && !opts.json;
      const mo = {
        ...(opts.strategy ? { strategy: opts.strategy } : {}),
        signal: irq.signal,
        onProgress: (p: MigrationProgress) => {
          if (live) process.stderr.write(`\r\x1b[K${p.phase}${p.detail ? `: ${p.detail}` : ''}${p.fraction !== undefined ? ` ${(p.fraction * 100).toFixed(0)}%` : ''}`);
        },
      };
      try {
        const probing = opts.probe && !!workloadSpec(lab, workload).app.peer;
        if (!probing) {
          const r = await migrateWorkload(lab, workload, opts.to, mo);
          if (live) process.stderr.write('\r\x1b[K');
          return opts.json ? printJson(r) : printMigration(r);
        }
        const runDir = resolve(opts.out ?? join('warplab-runs', `migrate-${name}-${workload}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
        const m = await measuredMigration(lab, workload, opts.to, { ...mo, runDir, ...(opts.echoIntervalMs ? { echoIntervalMs: opts.echoIntervalMs } : {}) });
        if (live) process.stderr.write('\r\x1b[K');
        if (opts.json) printJson({ ...(m.result ?? {}), ...(m.error ? { error: (m.error as Error).message } : {}), probe: { runDir, streams: probeStreams(m.run) } });
        else {
          if (m.result) printMigration(m.result);
          console.log(probeTable(m.run));
          console.log(`probe run: ${runDir}`);
        }
        if (m.error) throw m.error;
      } finally {
        irq.dispose();
      }
    });
}
