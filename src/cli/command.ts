// What every subcommand shares: its shape, argument parsing with --help, one-line errors, and how to reach a server.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { cutText } from '../text.js';
import { loadConfig, ConfigError, type Config } from '../config.js';
import { existingTokens } from '../tokens.js';

export type Command = {
  name: string;
  /** One line for `chatlio-relay --help`. */
  summary: string;
  /** The full text of `chatlio-relay <name> --help`. */
  help: string;
  /** Resolves with the exit code; a thrown CliError becomes one line on stderr. */
  run: (args: string[], env: NodeJS.ProcessEnv) => Promise<number | void>;
};

/** A failure worth one line to the operator; exit code 2 means "called wrongly", 1 "could not do it". */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, 2);

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * Parses a subcommand's arguments (node:util parseArgs, strict). `--help`/`-h` anywhere before `--` prints the
 * command's help and returns undefined, so the caller just returns.
 */
export function parseCommandArgs<O extends Options>(
  command: Pick<Command, 'help'>,
  args: string[],
  options: O,
  positionals: { max: number },
): Parsed<O> | undefined {
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(command.help);
    return undefined;
  }
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages go on with advice about "--"; the first sentence is the useful part.
    throw usageError(`${(error as Error).message.split('. ')[0]!.replace(/\.$/, '')}; see --help`);
  }
  if (parsed.positionals.length > positionals.max) {
    throw usageError(`unexpected argument "${parsed.positionals[positionals.max]}"; see --help`);
  }
  return parsed;
}

/** The same configuration the server reads, with a bad environment reported on one line. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(error.message.replace(/:?\n\s+/g, (m) => (m.startsWith(':') ? ': ' : '; ')));
    throw error;
  }
}

/** --url, else PUBLIC_URL, else the local HOST:PORT (a wildcard host means this machine). */
export function serverUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, flag: string | undefined): string {
  if (flag !== undefined) {
    let url: URL;
    try {
      url = new URL(flag);
    } catch {
      throw usageError(`--url "${flag}" is not a URL (expected e.g. http://127.0.0.1:3000)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url must be http(s), not ${url.protocol}`);
    return flag.replace(/\/+$/, '');
  }
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** fetch, with "cannot connect" turned into one line naming the address. */
export async function request(url: string, init: RequestInit, base: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
}

/** A non-2xx answer as one line: the problem body's detail when there is one. */
export async function failureLine(response: Response): Promise<string> {
  const text = await response.text();
  let detail = cutText(text.trim(), 300);
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown; errors?: Array<{ path?: unknown; message?: unknown }> };
    detail = String(problem.detail ?? problem.title ?? detail);
    const fields = (problem.errors ?? []).map((e) => `${String(e.path) || '(root)'}: ${String(e.message)}`);
    if (fields.length > 0) detail += ` (${fields.slice(0, 3).join('; ')}${fields.length > 3 ? '; …' : ''})`;
  } catch {
    // not JSON: keep the text
  }
  return `the server answered ${response.status} ${response.statusText}${detail ? `: ${detail.replace(/\s+/g, ' ')}` : ''}`;
}

/** The tokens the server uses (environment or DATA_DIR files), without generating any. */
export function readTokens(config: Config): ReturnType<typeof existingTokens> {
  try {
    return existingTokens(config.dataDir, config);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(`cannot read the tokens in DATA_DIR=${config.dataDir} (${reason}): run as the server's user, or set WEBHOOK_TOKEN and API_TOKEN`);
  }
}

export function webhookToken(config: Config): string {
  const token = readTokens(config).webhook?.[0];
  if (!token) {
    throw new CliError(`no webhook token yet: set WEBHOOK_TOKEN, or start the server once so it generates one in DATA_DIR=${config.dataDir}`);
  }
  return token;
}

export function apiToken(config: Config): string {
  const token = readTokens(config).api;
  if (!token) throw new CliError(`no API token yet: set API_TOKEN, or start the server once so it generates one in DATA_DIR=${config.dataDir}`);
  return token;
}
