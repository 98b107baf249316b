import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { LabError } from '../../errors.js';
import { getStrategy, usableStrategies } from '../../migration/strategy.js';
import { translatorStatus } from '../../translator/control.js';
import { printJson, stateDirOption, table } from '../output.js';

export function rulesCommand(): Command {
  return new Command('rules')
    .description("show what the network does for migration now: the translators' tables and counters, and each strategy's rules (service switching: NAT maps, host routes, proxy ARP)")
    .argument('<lab>', 'lab name')
    .argument('[router]', 'one router (default: all)')
    .addOption(stateDirOption())
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Counters: packets translated from the LAN and from the WAN, and packets dropped because no
page matched their source or their destination. Strategies read their own state back from
the nodes (service switching: the stateless NAT maps of every switch, the host routes that
steer proxy ARP, proxy_arp / proxy_delay per LAN interface).

Examples:
  $ sudo warplab rules icn-fig4 R2 --json
  $ sudo warplab rules bifulco`)
    .action(async (name: string, router: string | undefined, opts: { stateDir: string; json?: boolean }) => {
      const lab = attach(name, opts.stateDir);
      const translators = lab.topology.nodes.filter((n) => n.translator && (!router || n.name === router)).map((n) => n.name);
      const status = await Promise.all(translators.map((r) => translatorStatus(lab, r)));
      const strategies = (await Promise.all(usableStrategies(lab.topology).map((n) => getStrategy(n).rules?.(lab) ?? []))).flat().filter((x) => !router || x.node === router);
      if (router && !status.length && !strategies.length) throw new LabError(`${router} has no translator and no strategy rules in lab ${lab.name}`);
      if (opts.json) return printJson(router || !strategies.length ? [...status, ...strategies] : { translators: status, strategies });
      for (const s of status) {
        console.log(`${s.router}  backend ${s.backend}  agent pid ${s.pid}  since ${s.since}`);
        console.log(table(['RULE'], s.rules.map((r) => [r])).replace(/^/gm, '  '));
        console.log(table(['COUNTER', 'PACKETS'], Object.entries(s.counters).map(([k, v]) => [k, String(v)])).replace(/^/gm, '  ') + '\n');
      }
      for (const s of strategies) {
        console.log(`${s.node}  ${s.strategy}`);
        for (const t of s.tables) console.log(`  ${t.title}\n` + (t.rows.length ? table(t.header, t.rows).replace(/^/gm, '    ') : '    (none)'));
        console.log('');
      }
    });
}
