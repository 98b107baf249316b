import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { migrateWorkload, type MigrationResult } from '../../migration/migrate.js';
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
    .addOption(stateDirOption())
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
VMs move with QEMU live migration over the topology's migration network; containers with
a CRIU checkpoint restored into the destination. With network-paging (ICOIN 2011) a
watcher on the destination catches the workload's first RARP or gratuitous ARP and
switches every client-side translator; the times of each step are printed.

A failed or interrupted migration leaves the workload running at the source and the
translators unchanged, and exits 1 (130 on Ctrl-C).

Example (the paper's experiment: PDC → ADC and back):
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab migrate icoin vm-a --to adc-hv
  $ sudo warplab migrate icoin vm-a --to pdc-hv --json`)
    .action(async (name: string, workload: string, opts: { to: string; strategy?: string; stateDir: string; json?: boolean }) => {
      const irq = interruptible();
      const live = !!process.stderr.isTTY && !process.env.CI && !opts.json;
      try {
        const r = await migrateWorkload(attach(name, opts.stateDir), workload, opts.to, {
          ...(opts.strategy ? { strategy: opts.strategy } : {}),
          signal: irq.signal,
          onProgress: (p) => {
            if (live) process.stderr.write(`\r\x1b[K${p.phase}${p.detail ? `: ${p.detail}` : ''}${p.fraction !== undefined ? ` ${(p.fraction * 100).toFixed(0)}%` : ''}`);
          },
        });
        if (live) process.stderr.write('\r\x1b[K');
        if (opts.json) return printJson(r);
        printMigration(r);
      } finally {
        irq.dispose();
      }
    });
}
