// The five webhook routes: auth → parse (keeping the raw bytes) → validate → store, answering once committed.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { EVENT_TYPES, payloadSchemas, type EventType } from '../chatlio/index.js';
import { HttpProblem, fieldErrors } from '../errors.js';
import { parseJson } from '../json.js';
import { bearerToken, tokenChecker } from '../tokens.js';
import { ingestEvent } from './pipeline.js';
import { webhookOutcome } from '../metrics.js';

type WebhookBody = { raw: Buffer; json: unknown };

const querySchema = z.looseObject({ token: z.string().optional() });
export const ingestAnswerSchema = z.object({
  id: z.string().describe('the stored event id (the first one, for a duplicate)'),
  type: z.enum(EVENT_TYPES),
  duplicate: z.boolean().describe('true when the same bytes were already stored on this route'),
});

function presentedToken(request: FastifyRequest): string | undefined {
  const query = request.query as { token?: unknown };
  return bearerToken(request.headers.authorization) ?? (typeof query.token === 'string' ? query.token : undefined);
}

export const webhookRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const isWebhookToken = tokenChecker(ctx.tokens.webhook);
  // The answer body says whether an event was a duplicate; the handler marks the request so the metrics hook can tell.
  const duplicates = new WeakSet<FastifyRequest>();

  // Hooks on this path take callbacks, not async functions: every webhook runs them, and each async hook costs a
  // promise and a microtask turn (part of the per-request overhead measured in issue 10).
  app.addHook('onRequest', (request, _reply, done) => {
    if (isWebhookToken(presentedToken(request))) done();
    else done(new HttpProblem(401, 'missing or wrong webhook token', { headers: { 'www-authenticate': 'Bearer' } }));
  });

  // Our own JSON parser keeps the exact bytes: they are stored as received, for audits and signature checks downstream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw: Buffer, done) => {
    try {
      done(null, { raw, json: parseJson(raw.toString('utf8')) } satisfies WebhookBody);
    } catch (error) {
      done(new HttpProblem(400, `malformed JSON: ${(error as Error).message}`), undefined);
    }
  });

  for (const type of EVENT_TYPES) {
    app.withTypeProvider<ZodTypeProvider>().post(
      `/${type}`,
      {
        schema: {
          operationId: `receive${type.replace(/(^|-)(\w)/g, (_match, _dash, letter: string) => letter.toUpperCase())}`,
          summary: `Receive Chatlio's "${type}" webhook`,
          tags: ['webhooks'],
          querystring: querySchema,
          response: { 200: ingestAnswerSchema },
          security: [{ webhookToken: [] }, { bearer: [] }],
        },
        // For the document only: the route parses and validates the raw bytes itself (see receive), so the schema
        // must not become a Fastify body schema (src/openapi.ts moves it into the document).
        config: { documentedBody: payloadSchemas[type], problems: [413, 415, 422] },
        // Per route, so the route names the type; it runs for refusals too (401 from onRequest, 4xx, 503).
        onResponse: (request, reply, done) => {
          ctx.metrics.webhookAnswered(type, webhookOutcome(reply.statusCode, duplicates.has(request)), reply.elapsedTime / 1000);
          done();
        },
        // The answer is built below from typed values: serialised as is, not parsed through its zod schema again
        // (which stays in the route's schema for the OpenAPI document).
        serializerCompiler: () => (data) => JSON.stringify(data),
      },
      async (request) => {
        const body = request.body as WebhookBody | undefined;
        if (!body) throw new HttpProblem(400, 'request body is empty; expected a JSON object');
        const answer = await receive(ctx, type, body);
        if (answer.duplicate) duplicates.add(request);
        return answer;
      },
    );
  }
};

async function receive(ctx: AppContext, type: EventType, body: WebhookBody) {
  const receivedAt = Date.now();
  const result = payloadSchemas[type].safeParse(body.json);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    // Kept so an operator can inspect and replay it once the schema is fixed; a 503 if even that cannot be stored.
    await ctx.storage.insertRejection({ type, receivedAt, raw: body.raw, errors });
    throw new HttpProblem(422, `the ${type} payload does not have the shape Chatlio documents`, { errors });
  }
  const stored = await ingestEvent(ctx, { type, raw: body.raw, payload: result.data, receivedAt });
  return { id: stored.id, type, duplicate: stored.duplicate };
}
