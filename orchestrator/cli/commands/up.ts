import { Command } from 'commander';
import { attach, up } from '../../lab/lab.js';
import { loadTopologyFile } from '../../topology/load.js';
import { interruptible, printJson, printNotes, progressLine, stateDirOption } from '../output.js';
import { describeLab, printLab } from './inspect.js';
import { applySubstrateFlags, withSubstrateOptions, type SubstrateFlags } from '../substrate-options.js';

export function upCommand(): Command {
  return withSubstrateOptions(
    new Command('up')
      .description('build a lab from a topology file and record it in the state directory')
      .argument('<file>', 'topology YAML file, or a containerlab *.clab.yml'),
  )
    .addOption(stateDirOption())
    .option('--no-workloads', "build the network only; do not start the topology's VMs and containers")
    .option('--json', 'print the lab as JSON')
    .addHelpText('after', `
Each node becomes a network namespace named wl-LAB-NODE (with -s docker: a container of
that name, labelled warplab.lab, warplab.lab-id and warplab.node), each link a veth pair,
each lan a bridge. Everything is marked as the lab's own; \`warplab down LAB\` removes it,
even after a crash. Ctrl-C during \`up\` removes what was made and exits 130.

Examples:
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab up topologies/icoin2011-paging.yaml -s docker   # nodes as containers
  $ sudo warplab exec icoin U -- ping -c1 172.15.10.2
  $ sudo warplab down icoin`)
    .action(async (file: string, opts: SubstrateFlags & { stateDir: string; json?: boolean; workloads: boolean }) => {
      applySubstrateFlags(opts);
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
