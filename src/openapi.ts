// The OpenAPI 3 document, generated from the same zod schemas that validate requests and responses, and its pages.
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

/** Must run before any route is registered: @fastify/swagger collects routes as they are added. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'chatlio-relay', version: packageJson.version, description: packageJson.description },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN for /api; the webhook token on webhook routes' },
          webhookToken: { type: 'apiKey', in: 'query', name: 'token', description: 'the webhook token, in the URL Chatlio calls' },
        },
      },
      // Everything documented needs the API token unless a route says otherwise (the webhook routes do).
      security: [{ bearer: [] }],
      tags: [
        { name: 'events', description: 'stored webhooks: list, search, read, export' },
        { name: 'conversations', description: 'one chat, all its events' },
        { name: 'rejections', description: 'bodies refused with 422' },
        { name: 'stats', description: 'counts and response times' },
        { name: 'erasure', description: 'privacy requests' },
        { name: 'webhooks', description: 'what Chatlio calls' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  // The page and its assets come from the package itself: nothing is loaded from another host.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null, persistAuthorization: false },
    staticCSP: true,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
