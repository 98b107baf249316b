import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { TopologyError } from '../../errors.js';
import { convertedYaml, fromContainerlab, isContainerlab } from '../../topology/containerlab.js';
import { parseTopology } from '../../topology/load.js';
import { YamlSource } from '../../topology/source.js';
import { printJson, printNotes } from '../output.js';

export function convertCommand(): Command {
  return new Command('convert')
    .description('print a containerlab topology (*.clab.yml) as a warplab topology file (no root needed)')
    .argument('<file>', 'containerlab topology file')
    .option('--json', 'print the converted topology and the notes as JSON')
    .addHelpText('after', `
warplab reads containerlab files directly (validate, up); convert shows what it reads them as.
linux nodes become hosts (routers when an exec line turns on IPv4 forwarding) with their
image, env, binds, cmd and exec; bridge nodes become lans; frr nodes become routers running
Debian's FRR with their startup-config. What is ignored or substituted is printed as
"# note:" lines at the top and on stderr. Paths stay relative to the containerlab file's
folder: save the output next to it. The file is checked as \`warplab validate\` checks it;
exit status 2 when it is invalid.

Example:
  $ warplab convert topologies/containerlab/frr-ospf.clab.yml > topologies/containerlab/frr-ospf.yaml`)
    .action(async (file: string, opts: { json?: boolean }) => {
      const text = await readFile(file, 'utf8');
      const src = new YamlSource(text, file);
      if (!src.syntaxIssues.length && !isContainerlab(file, src.value())) {
        throw new TopologyError([{ pos: { file, line: 1, col: 1 }, path: '', message: 'not a containerlab file', expected: 'a *.clab.yml name, or topology.nodes', hint: 'a warplab topology needs no conversion: warplab validate FILE' }]);
      }
      parseTopology(text, file);
      const c = fromContainerlab(src);
      printNotes(c.notes);
      if (opts.json) return printJson({ topology: c.document, notes: c.notes });
      process.stdout.write(convertedYaml(c, file));
    });
}
