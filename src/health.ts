// Liveness and readiness probes, without auth.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from './context.js';
import { sendProblem } from './errors.js';
import { StorageClosedError } from './store/storage.js';

export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  /** Proves the database takes a durable write right now; returns why not otherwise. */
  const notWritable = async (): Promise<string | undefined> => {
    try {
      await ctx.storage.probeWrite();
      return undefined;
    } catch (error) {
      if (error instanceof StorageClosedError) return 'database is closed';
      return `database is not writable: ${(error as Error).message}`;
    }
  };

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const problem = await notWritable();
    if (problem) return sendProblem(reply, 503, problem);
    return { status: 'ready' };
  });
};
