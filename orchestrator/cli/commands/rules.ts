import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { translatorStatus } from '../../translator/control.js';
import { printJson, stateDirOption, table } from '../output.js';

export function rulesCommand(): Command {
  return new Command('rules')
    .description("show the translators' tables and counters, as their agents report them")
    .argument('<lab>', 'lab name')
    .argument('[router]', 'one edge router (default: all)')
    .addOption(stateDirOption())
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Counters: packets translated from the LAN and from the WAN, and packets dropped because no
page matched their source or their destination.

Example:
  $ sudo warplab rules icn-fig4 R2 --json`)
    .action(async (name: string, router: string | undefined, opts: { stateDir: string; json?: boolean }) => {
      const lab = attach(name, opts.stateDir);
      const routers = router ? [router] : lab.topology.nodes.filter((n) => n.translator).map((n) => n.name);
      const status = await Promise.all(routers.map((r) => translatorStatus(lab, r)));
      if (opts.json) return printJson(status);
      for (const s of status) {
        console.log(`${s.router}  backend ${s.backend}  agent pid ${s.pid}  since ${s.since}`);
        console.log(table(['RULE'], s.rules.map((r) => [r])).replace(/^/gm, '  '));
        console.log(table(['COUNTER', 'PACKETS'], Object.entries(s.counters).map(([k, v]) => [k, String(v)])).replace(/^/gm, '  ') + '\n');
      }
    });
}
