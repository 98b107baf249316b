import { Command } from 'commander';
import { attach, up } from '../../lab/lab.js';
import { DEFAULT_SUBSTRATE, substrateNames } from '../../substrate/registry.js';
import { loadTopologyFile } from '../../topology/load.js';
import { interruptible, printJson, printNotes, progressLine, stateDirOption } from '../output.js';
import { describeLab, printLab } from './inspect.js';

export function upCommand(): Command {
  return new Command('up')
    .description('build a lab from a topology file and record it in the state directory')
    .argument('<file>', 'topology YAML file, or a containerlab *.clab.yml')
    .option('-s, --substrate <name>', `where nodes run: ${substrateNames().join(', ')} (env WARPLAB_SUBSTRATE; default ${DEFAULT_SUBSTRATE})`)
    .addOption(stateDirOption())
    .option('--no-workloads', "build the network only; do not start the topology's VMs and containers")
    .option('--json', 'print the lab as JSON')
    .addHelpText('after', `
Each node becomes a network namespace named wl-LAB-NODE, each link a veth pair, each lan
a bridge. Everything is marked as the lab's own; \`warplab down LAB\` removes it, even
after a crash. Ctrl-C during \`up\` removes what was made and exits 130.

Example:
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab exec icoin U -- ping -c1 172.15.10.2
  $ sudo warplab down icoin`)
    .action(async (file: string, opts: { substrate?: string; stateDir: string; json?: boolean; workloads: boolean }) => {
      const t = await loadTopologyFile(file);
      printNotes(t.notes);
      const progress = progressLine();
      const irq = interruptible();
      const started = performance.now();
      try {
        await up(t, { substrate: opts.substrate, stateDir: opts.stateDir, signal: irq.signal, onProgress: progress.onProgress, topologyFile: file, workloads: opts.workloads });
      } finally {
        progress.done();
        irq.dispose();
      }
      const lab = attach(t.name, opts.stateDir);
      const ms = performance.now() - started;
      if (opts.json) return printJson({ ...(await describeLab(lab)), upMs: Math.round(ms) });
      await printLab(lab);
      console.log(`\nlab ${t.name} is up (${ms.toFixed(0)} ms). Next: warplab exec ${t.name} NODE -- CMD   ·   warplab down ${t.name}`);
    });
}
