// `chatlio-relay urls`: print the webhook URLs to paste into Chatlio, token included, and the web inbox's address.
import { formatWebhookUrls } from '../urls.js';
import { parseCommandArgs, readConfig, readTokens, webhookToken, type Command } from './command.js';

export const urlsCommand: Command = {
  name: 'urls',
  summary: 'print the webhook URLs (with the token) to paste into Chatlio',
  help: `Usage: chatlio-relay urls

Prints the five webhook URLs to paste into Chatlio's dashboard (Behavior tab → Webhooks and
post-chat actions), one per field, with the webhook token in each. They start with PUBLIC_URL,
the address Chatlio reaches; without it they use the local HOST:PORT and say so. Then the web
inbox's address (/ui on the same base) and where the API token to sign in with is kept.

The token comes from WEBHOOK_TOKEN (the first one, when several are given for rotation) or from
DATA_DIR/webhook-token. This command never creates a token: if there is none yet, start the
server once (it generates one) or set WEBHOOK_TOKEN.
`,
  async run(args, env) {
    if (!parseCommandArgs(urlsCommand, args, {}, { max: 0 })) return 0;
    const config = readConfig(env);
    const token = webhookToken(config);
    const tokens = readTokens(config);
    const apiWhere = config.apiToken
      ? 'from API_TOKEN'
      : tokens.api
        ? `kept in ${tokens.apiFile} (owner-only)`
        : `not generated yet (the server creates ${tokens.apiFile} at first start)`;
    process.stdout.write(`${formatWebhookUrls(config, token, apiWhere)}\n`);
  },
};
