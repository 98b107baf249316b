import { Command } from 'commander';
import { listLabs } from '../../lab/lab.js';
import { printJson, stateDirOption, table } from '../output.js';

export function lsCommand(): Command {
  return new Command('ls')
    .description('list the labs recorded in the state directory')
    .addOption(stateDirOption())
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Example:
  $ warplab ls --json | jq '.[].name'`)
    .action((opts: { stateDir: string; json?: boolean }) => {
      const labs = listLabs(opts.stateDir);
      if (opts.json) return printJson(labs.map((s) => ({ name: s.name, id: s.id, substrate: s.substrate, status: s.status, nodes: s.topology.nodes.length, createdAt: s.createdAt, topologyFile: s.topologyFile })));
      if (!labs.length) return console.log(`no labs (state dir ${opts.stateDir})`);
      console.log(table(['NAME', 'SUBSTRATE', 'STATUS', 'NODES', 'CREATED', 'TOPOLOGY'], labs.map((s) => [s.name, s.substrate, s.status, String(s.topology.nodes.length), s.createdAt, s.topologyFile ?? '-'])));
    });
}
