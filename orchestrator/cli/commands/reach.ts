import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { formatMatrix, reachability } from '../../lab/reachability.js';
import { printJson, stateDirOption } from '../output.js';

export function reachCommand(): Command {
  return new Command('reach')
    .description('ping between every pair of hosts and hypervisors, beside what the topology predicts')
    .argument('<lab>', 'lab name')
    .addOption(stateDirOption())
    .option('--json', 'print every pair as JSON')
    .addHelpText('after', `
The prediction simulates plain IPv4 forwarding on the topology's addresses and routes.
Exit status 1 when the lab and the prediction disagree.

Example:
  $ sudo warplab reach icoin`)
    .action(async (name: string, opts: { stateDir: string; json?: boolean }) => {
      const rows = await reachability(attach(name, opts.stateDir));
      if (opts.json) printJson(rows);
      else console.log(formatMatrix(rows));
      if (rows.some((r) => r.observed !== r.predicted)) process.exitCode = 1;
    });
}
