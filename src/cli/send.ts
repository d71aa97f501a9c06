// `chatlio-relay send <type> [file]`: post a file, or one of the shipped sample payloads, to a running server.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_TYPES, isEventType } from '../chatlio/index.js';
import { CliError, failureLine, parseCommandArgs, readConfig, request, serverUrl, usageError, webhookToken, type Command } from './command.js';

// The valid fixtures (payloads as Chatlio documents them) ship next to dist/, in the npm package and the Docker image.
const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'valid');

export const sendCommand: Command = {
  name: 'send',
  summary: 'post a sample payload or a file to a running server, to test a setup end to end',
  help: `Usage: chatlio-relay send <type> [file] [--fixture <name>] [--url <url>]

Posts a webhook to a running chatlio-relay exactly as Chatlio does (POST, JSON body, token in the
query string) and prints the server's answer. Exits non-zero unless the server answers 2xx.

  <type>            ${EVENT_TYPES.join(', ')}
  [file]            the JSON body to send; without it, the sample payload Chatlio documents
  --fixture <name>  send another shipped sample instead (fixtures/valid/<type>/<name>.json)
  --url <url>       the server to post to; default PUBLIC_URL, else http://HOST:PORT

The webhook token comes from WEBHOOK_TOKEN or DATA_DIR/webhook-token.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(sendCommand, args, { url: { type: 'string' }, fixture: { type: 'string' } }, { max: 2 });
    if (!parsed) return 0;
    const [type, file] = parsed.positionals;
    if (!type) throw usageError('missing <type>; see --help');
    if (!isEventType(type)) throw usageError(`unknown event type "${type}" (expected one of: ${EVENT_TYPES.join(', ')})`);
    if (file && parsed.values.fixture) throw usageError('give either a file or --fixture, not both');
    const body = file ? readBody(file) : readSample(type, parsed.values.fixture ?? 'documented');

    const config = readConfig(env);
    const base = serverUrl(config, parsed.values.url);
    const token = webhookToken(config);
    const response = await request(
      `${base}/webhooks/chatlio/${type}?token=${encodeURIComponent(token)}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(body) },
      base,
    );
    if (!response.ok) throw new CliError(await failureLine(response));
    process.stdout.write(`${(await response.text()).trim()}\n`);
  },
};

function readBody(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function readSample(type: string, name: string): Buffer {
  const dir = join(SAMPLES_DIR, type);
  let names: string[];
  try {
    names = readdirSync(dir).filter((entry) => entry.endsWith('.json')).map((entry) => entry.slice(0, -'.json'.length));
  } catch {
    throw new CliError(`the sample payloads are not installed (no ${dir}); pass a file instead`);
  }
  if (!names.includes(name)) throw usageError(`no sample "${name}" for ${type} (there are: ${names.sort().join(', ')})`);
  return readFileSync(join(dir, `${name}.json`));
}
