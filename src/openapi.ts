// The OpenAPI 3 document, generated from the same zod schemas that validate requests and responses, and its pages.
import type { FastifyInstance } from 'fastify';
import fastifySwagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import type { Config } from './config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Problem statuses a route answers beyond those every documented route does (400, 401, 503; 404 with a path parameter). */
    problems?: number[];
    /** The request body for the document only: a route that parses its own bytes must not get a Fastify body schema. */
    documentedBody?: z.ZodType;
    /** The 200 answer by content type, for the document only: a route that sends a stream or bytes has no serializer. */
    documentedOk?: Record<string, z.ZodType>;
  }
}

/** Every error body (src/errors.ts), registered once so the document refers to one shared schema. */
export const problemSchema = z
  .object({
    type: z.string().describe('always about:blank: the status says what kind of problem it is'),
    title: z.string().describe('the HTTP status text'),
    status: z.number().int(),
    detail: z.string().optional().describe('what is wrong, for people; never anything internal on a 5xx'),
    errors: z
      .array(z.object({ path: z.string().describe('the failing field, dot-separated ("" for the root)'), message: z.string() }))
      .optional()
      .describe('one entry per failing field, for 400 and 422'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem body (application/problem+json)' });

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'a malformed request: bad JSON, an unknown or invalid parameter (errors[] names it)',
  401: 'missing or wrong token',
  404: 'no such resource',
  413: 'the body is larger than BODY_LIMIT',
  415: 'the Content-Type is not application/json',
  422: 'the body does not have the documented shape (errors[] names each failing field)',
  503: 'storage is unavailable, or too many exports are running: retry after Retry-After seconds',
};

const problemResponse = (status: number) => ({
  description: `${STATUS_CODES[status]}: ${PROBLEM_DESCRIPTIONS[status] ?? 'see detail'}`,
  content: { 'application/problem+json': { schema: problemSchema } },
});

type Transform = NonNullable<FastifyDynamicSwaggerOptions['transform']>;

/**
 * Adds what the routes do not spell out themselves to each operation: its problem responses, and the request body of a
 * route that declares one for the document only. Then zod → JSON Schema as usual. Fails at start-up when a documented
 * operation has no operationId, so a generated client never gets a made-up method name.
 */
const transform: Transform = (document) => {
  const { schema, route } = document;
  if (!schema || schema.hide) return jsonSchemaTransform(document);
  const statuses = new Set([400, 401, 503, ...(route.url.includes(':') ? [404] : []), ...(route.config?.problems ?? [])]);
  const response: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
  const ok = route.config?.documentedOk;
  if (ok) response[200] = { description: 'OK', content: Object.fromEntries(Object.entries(ok).map(([type, body]) => [type, { schema: body }])) };
  for (const status of [...statuses].sort((a, b) => a - b)) response[status] ??= problemResponse(status);
  const body = route.config?.documentedBody;
  const result = jsonSchemaTransform({ ...document, schema: { ...schema, response, ...(body ? { body } : {}) } });
  if (!(result.schema as { operationId?: unknown }).operationId) throw new Error(`${String(route.method)} ${route.url} has no operationId in its schema`);
  return result;
};

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

/**
 * The docs pages' Content-Security-Policy. Scripts only from here, none inline. swagger-ui's React code injects <style>
 * elements while it renders, which a hash cannot pin (the text follows the bundle) and which cannot run code, so inline
 * styles are allowed. Nothing comes from another host (the validator is off), and unlike the package's default there is
 * no upgrade-insecure-requests, which would break the page on a plain-HTTP address other than localhost.
 */
const DOCS_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'self'"],
};

/** Must run before any route is registered: @fastify/swagger collects routes as they are added. */
export async function registerOpenApi(app: FastifyInstance, config: Pick<Config, 'publicUrl'>): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'chatlio-relay',
        version: packageJson.version,
        description: packageJson.description,
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      // PUBLIC_URL when set; otherwise relative, so a client generated from the served document calls the host it came from.
      servers: [{ url: config.publicUrl ?? '/', description: config.publicUrl ? 'PUBLIC_URL' : 'the host serving this document' }],
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
        { name: 'deliveries', description: 'what went to each handler, attempts, redelivery' },
        { name: 'alerts', description: 'operational alerts: open and recent' },
      ],
    },
    transform,
    transformObject: (document) => {
      const openapi = jsonSchemaTransformObject(document);
      // zod registers the shared problem schema for requests too, but no request carries one.
      const { schemas } = (openapi as { components?: { schemas?: Record<string, unknown> } }).components ?? {};
      if (schemas) delete schemas.ProblemInput;
      return openapi;
    },
  });
  // The page and its assets come from the package itself: nothing is loaded from another host.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null, persistAuthorization: false },
    staticCSP: DOCS_CSP,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
