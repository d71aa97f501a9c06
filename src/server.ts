// The server process: read config, open the database, build the app, listen, and close with grace on a signal.
import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError } from './config.js';
import { createLogger } from './logger.js';
import { createContext, closeContext, type AppContext } from './context.js';
import { buildApp } from './app.js';
import { firstStartBanner } from './tokens.js';
import { createWorker, type Worker } from './dispatch/worker.js';
import { startRetention, type RetentionJob } from './retention.js';
import { startAlerts, type AlertJob } from './alerts/evaluator.js';

const SHUTDOWN_GRACE_MS = 10_000;
// Answers still being written this long after a signal (a client reading slowly) are cut, so shutdown ends in time.
const ANSWER_DRAIN_MS = 5_000;

export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`chatlio-relay: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty, maskPii: config.logMaskPii });
  let ctx: AppContext;
  try {
    ctx = await createContext(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`chatlio-relay: ${error.message}`);
      process.exit(2);
    }
    logger.fatal({ err: error }, 'cannot open the data directory or database');
    console.error(`chatlio-relay: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = await buildApp(ctx);
  const worker = createWorker(ctx);
  const retention = startRetention(ctx);
  const alerts = startAlerts(ctx);
  closeOnSignals(app, ctx, worker, retention, alerts);
  await app.listen({ port: config.port, host: config.host });
  try {
    await worker.start();
  } catch (error) {
    // Events keep being stored with their deliveries; they run once a fixed config starts.
    logger.fatal({ err: error }, 'cannot start the dispatch handlers');
    console.error(`chatlio-relay: cannot start the dispatch handlers: ${(error as Error).message}`);
    process.exit(1);
  }

  if (ctx.tokens.generated) {
    // Printed once, on stderr and never through the logger: stdout is the JSON log stream, and the URLs carry the token.
    process.stderr.write(`\n${firstStartBanner(config, ctx.tokens, process.stderr.isTTY === true)}\n\n`);
  }
}

function closeOnSignals(app: FastifyInstance, ctx: AppContext, worker: Worker, retention: RetentionJob, alerts: AlertJob): void {
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // app.close() drops idle connections and requests still arriving at once (src/connections.ts); answers in progress
    // get ANSWER_DRAIN_MS to finish.
    const drain = setTimeout(() => {
      app.log.warn('answers still being sent at shutdown; closing their connections');
      app.server.closeAllConnections();
    }, ANSWER_DRAIN_MS);
    drain.unref();
    // The worker stops claiming at once; running attempts finish (bounded) and the rest stay pending for the next start.
    Promise.all([app.close(), worker.stop(), retention.stop(), alerts.stop()])
      .then(() => closeContext(ctx))
      .then(() => {
        app.log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}
