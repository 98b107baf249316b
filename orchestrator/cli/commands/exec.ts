import { Command } from 'commander';
import { stateDirOption } from '../output.js';
import { attach } from '../../lab/lab.js';

export function execCommand(): Command {
  return new Command('exec')
    .description('run a command in a node of a lab, with this terminal attached')
    .argument('<lab>', 'lab name')
    .argument('<node>', 'node name')
    .argument('<command...>', 'the command, after --')
    .addOption(stateDirOption())
    .addHelpText('after', `
The exit status is the command's.

Example:
  $ sudo warplab exec icoin U -- ping -c3 172.16.0.10
  $ sudo warplab exec icoin R1 -- ip route`)
    .action(async (labName: string, node: string, command: string[], opts: { stateDir: string }) => {
      const proc = attach(labName, opts.stateDir).shell(node).spawn(command, { inherit: true });
      const code = await proc.exited;
      process.exitCode = code ?? 137;
    });
}
