import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { join, resolve } from 'node:path';
import type { MigrationProgress } from '../../migration/driver.js';
import { measuredMigration } from '../../migration/measured.js';
import { migrateWorkload, workloadSpec, type MigrationResult } from '../../migration/migrate.js';
import { interruptible, printJson, stateDirOption, table } from '../output.js';

const fmt = (v: number | string) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);

export function printMigration(r: MigrationResult): void {
  const rel = (ms: number) => (r.switching.announce ? `+${(ms - r.switching.announce.atMs).toFixed(3)} ms after the ${r.switching.announce.kind}` : '');
  console.log(`${r.workload} (${r.kind}) moved ${r.from} → ${r.to} by ${r.driver}, network by ${r.strategy} (${r.elapsedMs.toFixed(0)} ms in all)`);
  console.log(table(['driver figure', 'value'], Object.entries(r.figures).map(([k, v]) => [k, fmt(v)])));
  for (const s of r.switching.switches) console.log(`  ${s.router}: ${s.line}  ${rel(s.doneMs)}${s.kernelUs !== undefined ? ` (kernel ${s.kernelUs} µs)` : ''}`);
  if (r.switching.announceToSwitchedMs !== null) console.log(`announcement → translators switched: ${r.switching.announceToSwitchedMs.toFixed(3)} ms (${r.switching.by})`);
  if (r.switching.switchingMs !== null) console.log(`switching time (announcement → first packet on the new path): ${r.switching.switchingMs.toFixed(3)} ms`);
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('live-migrate a workload (VM or container) to another hypervisor; the network follows')
    .argument('<lab>', 'lab name')
    .argument('<workload>', 'workload name (see `warplab inspect LAB`)')
    .requiredOption('--to <hypervisor>', 'destination hypervisor node')
    .option('--strategy <name>', "how the network follows (default: the topology's migration.strategy)")
    .option('--no-probe', "do not record the workload's UDP streams during the move")
    .option('--out <dir>', 'where the probe run goes (default: warplab-runs/migrate-LAB-WORKLOAD-TIME)')
    .option('--echo-interval-ms <ms>', "interval of the client's stream to the workload's echo (default: the workload's)", Number)
    .addOption(stateDirOption())
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
VMs move with QEMU live migration over the topology's migration network; containers with
a CRIU checkpoint restored into the destination. With network-paging (ICOIN 2011) a
watcher on the destination catches the workload's first RARP or gratuitous ARP and
switches every client-side translator; the times of each step are printed.

The UDP probe records the workload's two streams (workload → client, client → workload's
echo → client) across the move and writes the run's reports (report.json, Markdown,
JUnit, SVG) to --out, even when the move fails.

A failed or interrupted migration leaves the workload running at the source and the
translators unchanged, and exits 1 (130 on Ctrl-C).

Example (the paper's experiment: PDC → ADC and back):
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab migrate icoin vm-a --to adc-hv
  $ sudo warplab migrate icoin vm-a --to pdc-hv --json`)
    .action(async (name: string, workload: string, opts: { to: string; strategy?: string; stateDir: string; json?: boolean; probe: boolean; out?: string; echoIntervalMs?: number }) => {
      const irq = interruptible();
      const live = !!process.stderr.isTTY && !process.env.CI && !opts.json;
      const lab = attach(name, opts.stateDir);
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
        const gaps = m.run.trials[0]!.streams.map((s) => ({ stream: s.label, downtimeMs: s.analysis.windows[0]?.downtimeMs ?? null, lost: s.analysis.lost, received: s.analysis.received }));
        if (opts.json) printJson({ ...(m.result ?? {}), ...(m.error ? { error: (m.error as Error).message } : {}), probe: { runDir, streams: gaps } });
        else {
          if (m.result) printMigration(m.result);
          console.log(table(['stream', 'largest gap (ms)', 'received', 'lost'], gaps.map((g) => [g.stream, g.downtimeMs === null ? '-' : g.downtimeMs.toFixed(1), String(g.received), String(g.lost)])));
          console.log(`probe run: ${runDir}`);
        }
        if (m.error) throw m.error;
      } finally {
        irq.dispose();
      }
    });
}
