// `chatlio-relay export`: stream the API's event export from a running server to stdout.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { CliError, apiToken, failureLine, parseCommandArgs, readConfig, request, serverUrl, usageError, type Command } from './command.js';

const FORMATS = ['ndjson', 'csv'];

export const exportCommand: Command = {
  name: 'export',
  summary: 'stream the stored events (NDJSON or CSV) from a running server to stdout',
  help: `Usage: chatlio-relay export [--format ndjson|csv] [--filter <name>=<value>]... [--url <url>]

Streams GET /api/events/export from a running server to stdout, as the API does.

  --format ndjson|csv       default ndjson
  --filter <name>=<value>   an export filter, passed on as a query parameter (repeatable),
                            e.g. --filter type=transcript --filter since=2026-01-01
  --url <url>               the server; default PUBLIC_URL, else http://HOST:PORT

The API token comes from API_TOKEN or DATA_DIR/api-token.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(
      exportCommand,
      args,
      { url: { type: 'string' }, format: { type: 'string', default: 'ndjson' }, filter: { type: 'string', multiple: true } },
      { max: 0 },
    );
    if (!parsed) return 0;
    const format = parsed.values.format ?? 'ndjson';
    if (!FORMATS.includes(format)) throw usageError(`--format must be one of ${FORMATS.join(', ')}`);
    const query = new URLSearchParams({ format });
    for (const filter of parsed.values.filter ?? []) {
      const eq = filter.indexOf('=');
      if (eq <= 0) throw usageError(`--filter "${filter}" is not <name>=<value>`);
      query.append(filter.slice(0, eq), filter.slice(eq + 1));
    }
    const config = readConfig(env);
    const base = serverUrl(config, parsed.values.url);
    const response = await request(`${base}/api/events/export?${query}`, { headers: { authorization: `Bearer ${apiToken(config)}` } }, base);
    if (!response.ok) throw new CliError(await failureLine(response));
    if (!response.body) return;
    try {
      await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), process.stdout);
    } catch (error) {
      // The server aborts an export it cannot finish (e.g. a damaged database): what reached stdout is cut short.
      throw new CliError(`the export ended before it was complete (${(error as Error).message}): the output is incomplete; the server's log says why`);
    }
  },
};
