// The CLI: thin command files over the library; errors map to exit codes here, once.
import { Command, CommanderError } from 'commander';
import { Interrupted, TopologyError, WarplabError } from '../errors.js';
import { convertCommand } from './commands/convert.js';
import { downCommand } from './commands/down.js';
import { execCommand } from './commands/exec.js';
import { inspectCommand } from './commands/inspect.js';
import { lsCommand } from './commands/ls.js';
import { reachCommand } from './commands/reach.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { rulesCommand } from './commands/rules.js';
import { switchCommand } from './commands/switch.js';
import { migrateCommand } from './commands/migrate.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import { closeSshConnections } from '../substrate/ssh/connections.js';

// `warplab ls | head` closes our stdout early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command('warplab')
  .description('testbed orchestrator for wide-area live migration without address warping')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride()
  .addHelpText('after', `
A lab is a topology file brought up as real Linux network namespaces (substrate netns).

Example session:
  $ warplab validate topologies/icoin2011-paging.yaml topologies/scenarios/icoin2011-vm-migration.yaml
  $ sudo warplab up topologies/icoin2011-paging.yaml
  $ sudo warplab reach icoin
  $ sudo warplab exec icoin U -- ip route
  $ sudo warplab down icoin
  $ sudo warplab run topologies/scenarios/icoin2011-vm-migration.yaml --repeat 5

Exit status: 0 success, 1 failure, 2 invalid input or usage, 130 interrupted.`);

for (const c of [validateCommand(), convertCommand(), upCommand(), downCommand(), lsCommand(), inspectCommand(), execCommand(), reachCommand(), rulesCommand(), switchCommand(), migrateCommand(), runCommand(), reportCommand()]) {
  program.addCommand(c.exitOverride());
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof Interrupted) {
    console.error(`warplab: ${e.message}`);
    process.exitCode = 130;
  } else if (e instanceof TopologyError) {
    console.error(e.message);
    process.exitCode = 2;
  } else if (e instanceof WarplabError) {
    console.error(`warplab: ${e.message}`);
    process.exitCode = 1;
  } else {
    throw e;
  }
} finally {
  closeSshConnections();
}
