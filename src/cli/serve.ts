// `chatlio-relay serve`: run the server (what `npm start` and the Docker image run).
import { parseCommandArgs, type Command } from './command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server (what npm start and the Docker image run)',
  help: `Usage: chatlio-relay serve

Runs the server: receives Chatlio's webhooks on /webhooks/chatlio/<type>, serves /api, /metrics,
/healthz and /readyz. Configured by the environment (PORT, HOST, DATA_DIR, PUBLIC_URL, ...).
Stops cleanly on SIGTERM or SIGINT.
`,
  async run(args, env) {
    if (!parseCommandArgs(serveCommand, args, {}, { max: 0 })) return 0;
    // Loaded on demand: the server's modules (Fastify and all) would slow down every other command's start.
    const { serve } = await import('../server.js');
    await serve(env);
  },
};
