import { Command } from 'commander';
import { TopologyError } from '../../errors.js';
import { loadTopologyFile } from '../../topology/load.js';
import { printJson } from '../output.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check topology files: schema, names, links, addresses, routes (no root needed)')
    .argument('<files...>', 'topology YAML files')
    .option('--json', 'print results as JSON')
    .addHelpText('after', `
Every problem is reported at once, as FILE:LINE:COL: YAML.PATH: message, with what was
expected and a hint. Exit status 0 when all files are valid, 2 otherwise.

Example:
  $ warplab validate topologies/*.yaml`)
    .action(async (files: string[], opts: { json?: boolean }) => {
      const results = [];
      for (const file of files) {
        try {
          const t = await loadTopologyFile(file);
          const computed = t.nodes.reduce((s, n) => s + n.routes.filter((r) => r.auto).length, 0);
          results.push({ file, ok: true, name: t.name, nodes: t.nodes.length, links: t.links.length, computedRoutes: computed });
          if (!opts.json) console.log(`ok  ${file}: lab ${t.name}, ${t.nodes.length} nodes, ${t.links.length} links${t.routing === 'auto' ? `, ${computed} routes computed` : ''}`);
        } catch (e) {
          if (!(e instanceof TopologyError)) throw e;
          results.push({ file, ok: false, issues: e.issues });
          if (!opts.json) console.error(e.message);
        }
      }
      if (opts.json) printJson(results);
      if (results.some((r) => !r.ok)) process.exitCode = 2;
    });
}
