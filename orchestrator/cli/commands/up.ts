import { Command } from 'commander';
import { attach, up } from '../../lab/lab.js';
import { loadTopologyFile } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { getSubstrate } from '../../substrate/registry.js';
import { labExtensions } from '../../lab/extensions.js';
import { SubstrateError } from '../../errors.js';
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
    .option('--dry-run', 'print what would be made where, as the exact commands, and make nothing')
    .addHelpText('after', `
Each node becomes a network namespace named wl-LAB-NODE (with -s docker: a container of
that name, labelled warplab.lab, warplab.lab-id and warplab.node), each link a veth pair,
each lan a bridge. Everything is marked as the lab's own; \`warplab down LAB\` removes it,
even after a crash. Ctrl-C during \`up\` removes what was made and exits 130.

With --dry-run nothing is made: the plan is printed per machine and namespace, for a
placeholder lab id (00000000) that stands for the random one \`up\` draws (it is part of the
mark and, across SSH hosts, picks the VNIs). netns and ssh print plans; docker and Mininet
cannot (their commands depend on the containers' PIDs).

Examples:
  $ warplab up topologies/icoin2011-paging.yaml --dry-run | less
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab up topologies/icoin2011-paging.yaml -s docker   # nodes as containers
  $ sudo warplab exec icoin U -- ping -c1 172.15.10.2
  $ sudo warplab down icoin`)
    .action(async (file: string, opts: SubstrateFlags & { stateDir: string; json?: boolean; workloads: boolean; dryRun?: boolean }) => {
      applySubstrateFlags(opts);
      const t = await loadTopologyFile(file);
      printNotes(t.notes);
      if (opts.dryRun) return dryRun(t, opts);
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

const DRY_RUN_ID = '00000000';

function dryRun(t: Topology, opts: SubstrateFlags & { json?: boolean; workloads: boolean }): void {
  const substrate = getSubstrate(opts.substrate, t.hosts !== undefined);
  if (!substrate.plan) throw new SubstrateError(`--dry-run: the ${substrate.name} substrate cannot print its plan (its commands depend on what earlier steps return, such as containers' PIDs); netns and ssh can`);
  const steps = substrate.plan(t, DRY_RUN_ID);
  const then = labExtensions().filter((x) => x.wanted(t, { workloads: opts.workloads })).map((x) => x.name);
  if (opts.json) return printJson({ lab: t.name, substrate: substrate.name, labId: DRY_RUN_ID, steps, then });
  console.log(`# lab ${t.name} on ${substrate.name}, for lab id ${DRY_RUN_ID} (up draws a random one); nothing is made\n`);
  for (const s of steps) console.log(`# ${s.where}: ${s.what}\n${s.commands.map((c) => `  ${c}`).join('\n')}\n`);
  if (then.length) console.log(`# then the lab extensions: ${then.join(', ')}`);
}
