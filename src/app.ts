// buildApp(ctx) → a ready-to-listen Fastify instance; no listen, no process globals, so tests build one per file.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import type { AppContext } from './context.js';
import type { Config } from './config.js';
import { frameworkErrors, registerErrorHandling } from './errors.js';
import { connectionHandling } from './connections.js';
import { healthRoutes } from './health.js';
import { webhookRoutes } from './ingest/routes.js';
import { requireApiToken } from './api/auth.js';
import { eventRoutes } from './api/events.js';
import { deliveryRoutes } from './api/deliveries.js';
import { metricsRoutes } from './metrics.js';
import { conversationRoutes } from './api/conversations.js';
import { rejectionRoutes } from './api/rejections.js';
import { statsRoutes } from './api/stats.js';
import { visitorRoutes } from './api/visitors.js';
import { alertRoutes } from './api/alerts.js';
import { registerOpenApi } from './openapi.js';
import { uiRoutes } from './ui/plugin.js';
import { ingestEvent } from './ingest/pipeline.js';

/**
 * Fastify 5 takes addresses and true as they are, but reads a bare number as "trust nothing" (a count cannot tell the
 * proxy from a client that reached the port directly): a hop count becomes the function that trusts the nearest hops.
 */
function trustProxyOption(setting: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const connections = connectionHandling(ctx.config);
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimit,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Behind a reverse proxy every peer is the proxy: request.ip (the sign-in lockout's key) then comes from X-Forwarded-For.
    trustProxy: trustProxyOption(ctx.config.trustProxy),
    frameworkErrors,
    ...connections.options,
  });
  connections.register(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  await registerOpenApi(app, ctx.config);
  await app.register(healthRoutes, { ctx });
  await app.register(metricsRoutes, { ctx });
  await app.register(webhookRoutes, { ctx, prefix: '/webhooks/chatlio' });
  await app.register(
    async (api) => {
      requireApiToken(api, ctx.tokens.api);
      await api.register(eventRoutes, { ctx });
      await api.register(deliveryRoutes, { ctx });
      await api.register(conversationRoutes, { ctx });
      await api.register(rejectionRoutes, { ctx });
      await api.register(statsRoutes, { ctx });
      await api.register(visitorRoutes, { ctx });
      await api.register(alertRoutes, { ctx });
    },
    { prefix: '/api' },
  );
  // The web inbox at /ui (and / redirecting there): the same storage, behind a session cookie that /api ignores.
  await app.register(uiRoutes, { storage: ctx.storage, apiToken: ctx.tokens.api, dispatch: ctx.dispatch, ingest: (event) => ingestEvent(ctx, event) });
  return app;
}
