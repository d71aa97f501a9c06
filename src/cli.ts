#!/usr/bin/env node
// The chatlio-relay command: `serve` runs the server; the other subcommands do the chores.
import { serve } from './server.js';

const USAGE = `Usage: chatlio-relay <command>

Commands:
  serve     run the server (what npm start runs)
`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      console.error(`chatlio-relay: unknown command "${command}"; see chatlio-relay --help`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`chatlio-relay: ${(error as Error).message}`);
  process.exit(1);
});
