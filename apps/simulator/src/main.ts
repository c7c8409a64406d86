import { Command } from 'commander';
import { registerG13Command } from './g13';
import { registerIServer2Command } from './iserver2';
import { registerMpcbCommand } from './mpcb/cli';

/**
 * Device simulators a person can query: `npm run sim -- g13 --gateways 2 --meters 5`,
 * `npm run sim -- iserver2 --port 8081`. Each prints its addresses and credentials.
 */
const program = new Command('simulator').description('Protocol-faithful device simulators for the head-end');
registerG13Command(program);
registerIServer2Command(program);
registerMpcbCommand(program);
program.parseAsync(process.argv).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
