#!/usr/bin/env node
// The chatlio-relay command: `serve` runs the server; the other subcommands do the chores.
import { CliError, type Command } from './cli/command.js';
import { serveCommand } from './cli/serve.js';
import { urlsCommand } from './cli/urls.js';
import { sendCommand } from './cli/send.js';
import { backupCommand } from './cli/backup.js';
import { replayCommand } from './cli/replay.js';
import { exportCommand } from './cli/export.js';
import { copyToPostgresCommand } from './cli/copy-to-postgres.js';
import { checkConfigCommand } from './cli/check-config.js';
import { checkDbCommand } from './cli/check-db.js';
import { restoreCommand } from './cli/restore.js';

const COMMANDS: Command[] = [serveCommand, urlsCommand, sendCommand, checkConfigCommand, backupCommand, restoreCommand, checkDbCommand, replayCommand, exportCommand, copyToPostgresCommand];

const USAGE = `Usage: chatlio-relay <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(17)} ${command.summary}`).join('\n')}

Every command reads the same environment as the server (DATA_DIR, PORT, HOST, PUBLIC_URL,
WEBHOOK_TOKEN, API_TOKEN, ...). Commands that talk to a running server take --url, else use
PUBLIC_URL, else http://HOST:PORT. Run chatlio-relay <command> --help for one command.
`;

// Error lines start with the command they come from: "chatlio-relay send: …".
let prefix = 'chatlio-relay';

async function main(argv: string[]): Promise<number | void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((command) => command.name === args[0]) : undefined;
    process.stdout.write(topic ? topic.help : USAGE);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new CliError(`unknown command "${name}"; see chatlio-relay --help`, 2);
  prefix = `chatlio-relay ${command.name}`;
  return command.run(args, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`${prefix}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  },
);
