import { Command } from 'commander';
import { stateDirOption } from '../output.js';
import { attach } from '../../lab/lab.js';

export function execCommand(): Command {
  return new Command('exec')
    .description('run a command in a node or a workload of a lab (a node: with this terminal attached)')
    .argument('<lab>', 'lab name')
    .argument('<name>', 'node or workload name')
    .argument('<command...>', 'the command, after --')
    .addOption(stateDirOption())
    .addHelpText('after', `
The exit status is the command's. In a workload (a VM or a container, wherever it runs now)
the command gets no terminal and no input: its output and errors are printed when it ends.

Example:
  $ sudo warplab exec icoin U -- ping -c3 172.16.0.10
  $ sudo warplab exec icoin R1 -- ip route
  $ sudo warplab exec icoin vm-a -- ip -4 addr`)
    .action(async (labName: string, name: string, command: string[], opts: { stateDir: string }) => {
      const lab = attach(labName, opts.stateDir);
      if (lab.topology.workloads.some((w) => w.name === name)) {
        const r = await lab.workloadShell(name).exec(command, { check: false });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.exitCode;
        return;
      }
      const proc = lab.shell(name).spawn(command, { inherit: true });
      const code = await proc.exited;
      process.exitCode = code ?? 137;
    });
}
