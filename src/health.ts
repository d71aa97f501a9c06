// Liveness and readiness probes, without auth.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from './context.js';
import { sendProblem } from './errors.js';

export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const touch = ctx.db.prepare("INSERT INTO meta (key, value) VALUES ('readyz', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");

  /** Proves the database takes a durable write right now; returns why not otherwise. */
  const notWritable = (): string | undefined => {
    if (!ctx.db.open) return 'database is closed';
    try {
      touch.run(new Date().toISOString());
      return undefined;
    } catch (error) {
      return `database is not writable: ${(error as Error).message}`;
    }
  };

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const problem = notWritable();
    if (problem) return sendProblem(reply, 503, problem);
    return { status: 'ready' };
  });
};
