import { Command } from 'commander';
import { registerIServer2Command } from './iserver2';

/**
 * Device simulators a person can query, e.g. `npm run sim -- iserver2 --port 8081`. Each prints its addresses and credentials.
 */
const program = new Command('simulator').description('Protocol-faithful device simulators for the head-end');
registerIServer2Command(program);
program.parseAsync(process.argv).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
