// `chatlio-relay replay`: ask a running server to redeliver its dead deliveries (the API's redeliver, with the API token).
import { CliError, apiToken, failureLine, parseCommandArgs, readConfig, request, serverUrl, type Command } from './command.js';

export const replayCommand: Command = {
  name: 'replay',
  summary: 'redeliver dead deliveries on a running server',
  help: `Usage: chatlio-relay replay [--handler <name>] [--url <url>]

Asks a running server to redeliver every dead delivery (those that ran out of attempts), or only
those of one handler: POST /api/deliveries/redeliver?status=dead[&handler=<name>]. Prints the
server's answer.

  --handler <name>  only this handler's dead deliveries
  --url <url>       the server; default PUBLIC_URL, else http://HOST:PORT

The API token comes from API_TOKEN or DATA_DIR/api-token.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(replayCommand, args, { url: { type: 'string' }, handler: { type: 'string' } }, { max: 0 });
    if (!parsed) return 0;
    const config = readConfig(env);
    const base = serverUrl(config, parsed.values.url);
    const query = new URLSearchParams({ status: 'dead' });
    if (parsed.values.handler) query.set('handler', parsed.values.handler);
    const response = await request(
      `${base}/api/deliveries/redeliver?${query}`,
      { method: 'POST', headers: { authorization: `Bearer ${apiToken(config)}` } },
      base,
    );
    if (!response.ok) throw new CliError(await failureLine(response));
    process.stdout.write(`${(await response.text()).trim()}\n`);
  },
};
