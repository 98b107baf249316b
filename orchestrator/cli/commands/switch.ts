import { Command } from 'commander';
import { attach } from '../../lab/lab.js';
import { switchPage } from '../../translator/control.js';
import { printJson, stateDirOption } from '../output.js';

export function switchCommand(): Command {
  return new Command('switch')
    .description("switch one page or one address of an edge router's translator, live")
    .argument('<lab>', 'lab name')
    .argument('<router>', 'edge router')
    .argument('<target>', 'a page name, a LAN prefix, or one address')
    .requiredOption('--to <wan>', 'the new WAN prefix (same size), or "pass" to use the address unchanged')
    .addOption(stateDirOption())
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Prints the time the kernel update took (measured by the agent) and the round trip of the
control call.

Example (ICOIN 2011: the VM moved to ADC, R3 stops translating its address):
  $ sudo warplab switch icoin R3 172.16.10.2 --to pass`)
    .action(async (name: string, router: string, target: string, opts: { to: string; stateDir: string; json?: boolean }) => {
      const r = await switchPage(attach(name, opts.stateDir), router, target, opts.to);
      if (opts.json) return printJson(r);
      console.log(`${r.router}: ${r.rule}  (kernel ${r.kernelUs} µs, round trip ${r.roundTripMs.toFixed(2)} ms)`);
    });
}
