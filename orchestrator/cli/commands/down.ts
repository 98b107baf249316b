import { Command } from 'commander';
import { down, listLabs } from '../../lab/lab.js';
import { LabError } from '../../errors.js';
import { printJson, stateDirOption } from '../output.js';

export function downCommand(): Command {
  return new Command('down')
    .description('remove a lab: its processes, namespaces and links, from the recorded state alone')
    .argument('[labs...]', 'lab names (see `warplab ls`)')
    .option('-a, --all', 'remove every lab recorded in the state directory')
    .addOption(stateDirOption())
    .option('--json', 'print what was removed as JSON')
    .addHelpText('after', `
Only objects that carry the lab's mark are removed; the topology file is not needed.

Example:
  $ sudo warplab down icoin
  $ sudo warplab down --all`)
    .action(async (labs: string[], opts: { all?: boolean; stateDir: string; json?: boolean }) => {
      const names = opts.all ? listLabs(opts.stateDir).map((s) => s.name) : labs;
      if (!names.length && !opts.all) throw new LabError('name a lab (see `warplab ls`) or pass --all');
      const result: Record<string, string[]> = {};
      for (const name of names) {
        result[name] = await down(name, opts.stateDir);
        if (!opts.json) console.log(`lab ${name} is down: removed ${result[name]!.length} objects`);
      }
      if (opts.json) printJson(result);
    });
}
