// Liveness and readiness probes, without auth.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from './context.js';
import { sendProblem } from './errors.js';

/** Proves the database takes a durable write right now; returns why not otherwise. */
export function checkWritable(ctx: AppContext): string | undefined {
  try {
    ctx.db.prepare("INSERT INTO meta (key, value) VALUES ('readyz', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      new Date().toISOString(),
    );
    return undefined;
  } catch (error) {
    return `database is not writable: ${(error as Error).message}`;
  }
}

export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const problem = ctx.db.open ? checkWritable(ctx) : 'database is closed';
    if (problem) return sendProblem(reply, 503, problem);
    return { status: 'ready' };
  });
};
