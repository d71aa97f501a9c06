// `chatlio-relay check-config`: validate CONFIG_FILE and print which handlers would run for each event type.
import { loadDispatchConfig, type DispatchConfig } from '../dispatch/config.js';
import { describeAlertRules } from '../alerts/rules.js';
import { EVENT_TYPES } from '../chatlio/index.js';
import { CliError, parseCommandArgs, readConfig, usageError, type Command } from './command.js';

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate CONFIG_FILE and print what would run for each event type',
  help: `Usage: chatlio-relay check-config [file]

Validates the handlers configuration (the file given, else CONFIG_FILE) the way the server does
at start, including the environment variables it refers to, and prints for each event type the
handlers that would run. Exits non-zero with the first problem on one line when it is invalid.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(checkConfigCommand, args, {}, { max: 1 });
    if (!parsed) return 0;
    const path = parsed.positionals[0] ?? readConfig(env).configFile;
    if (!path) throw usageError('no configuration file: pass one or set CONFIG_FILE');
    let config: DispatchConfig;
    try {
      config = loadDispatchConfig(path, env);
    } catch (error) {
      throw new CliError(`${path}: ${(error as Error).message.replace(/\s*\n\s*/g, '; ')}`);
    }
    process.stdout.write(`${path} is valid: ${config.handlers.length} handler(s)\n`);
    for (const type of EVENT_TYPES) {
      const handlers = config.handlers.filter((h) => h.events === '*' || h.events.includes(type));
      const list = handlers
        .map((h) => `${h.name} (${h.type}${h.when ? ', when …' : ''}${h.delayMs ? `, after ${h.delayMs / 1000}s` : ''})`)
        .join(', ');
      process.stdout.write(`  ${type.padEnd(21)} → ${list || 'nothing (stored only)'}\n`);
    }
    process.stdout.write(`${describeAlertRules(config)}\n`);
  },
};
