import { Command } from 'commander';
import { isValidationError, validateFile } from '../../validate.js';
import { printJson, printNotes } from '../output.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check topology and scenario files: schema, names, links, addresses, routes, steps (no root needed)')
    .argument('<files...>', 'topology or scenario YAML files (containerlab *.clab.yml files too)')
    .option('--json', 'print results as JSON')
    .addHelpText('after', `
Every problem is reported at once, as FILE:LINE:COL: YAML.PATH: message, with what was
expected and a hint. A scenario is checked with its topology. Exit status 0 when all files
are valid, 2 otherwise.

Example:
  $ warplab validate topologies/*.yaml topologies/scenarios/*.yaml`)
    .action(async (files: string[], opts: { json?: boolean }) => {
      const results = [];
      for (const file of files) {
        try {
          const v = await validateFile(file);
          if (v.kind === 'scenario') {
            const s = v.scenario;
            results.push({ file, ok: true, kind: 'scenario', name: s.name, lab: s.topology.name, steps: s.steps.length, repeat: s.repeat });
            if (!opts.json) console.log(`ok  ${file}: scenario ${s.name} on lab ${s.topology.name}, ${s.steps.length} steps × ${s.repeat}, ${s.thresholds.length} thresholds`);
            continue;
          }
          const t = v.topology;
          const computed = t.nodes.reduce((s, n) => s + n.routes.filter((r) => r.auto).length, 0);
          results.push({ file, ok: true, kind: 'topology', name: t.name, nodes: t.nodes.length, links: t.links.length, workloads: t.workloads.length, computedRoutes: computed, ...(t.hosts ? { hosts: t.hosts.map((h) => h.name) } : {}), ...(t.notes ? { notes: t.notes } : {}) });
          if (!opts.json) printNotes(t.notes);
          if (!opts.json) console.log(`ok  ${file}: lab ${t.name}, ${t.nodes.length} nodes, ${t.links.length} links${t.workloads.length ? `, ${t.workloads.length} workloads` : ''}${t.routing === 'auto' ? `, ${computed} routes computed` : ''}${t.hosts ? `, on ${t.hosts.length} hosts` : ''}`);
        } catch (e) {
          if (!isValidationError(e)) throw e;
          results.push({ file, ok: false, issues: e.issues });
          if (!opts.json) console.error(e.message);
        }
      }
      if (opts.json) printJson(results);
      if (results.some((r) => !r.ok)) process.exitCode = 2;
    });
}
