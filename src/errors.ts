// One error handler: every failure leaves as an RFC 9457 problem body; 4xx say what is wrong, 5xx say nothing internal.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { z } from 'zod';

export type FieldError = { path: string; message: string };

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
};

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

/** zod issues as `{path: "messages.0.ts", message}`; the root is "". */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function sendProblem(reply: FastifyReply, status: number, detail?: string, errors?: FieldError[]) {
  const body: ProblemBody = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status };
  if (detail) body.detail = detail;
  if (errors) body.errors = errors;
  return reply.code(status).type('application/problem+json').send(body);
}

// SQLite result codes that mean "storage is unavailable for now": the sender should retry. A damaged file (CORRUPT,
// NOTADB) too: the event was not stored, and a restored backup will take it.
const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

// PostgreSQL's equivalents, by SQLSTATE: connection exceptions (08…), insufficient resources (53…: disk full, out of
// memory, too many connections), operator intervention (57…: admin or crash shutdown, cannot connect now, and 57014, a
// statement cancelled by PG_STATEMENT_TIMEOUT_MS: the server is overloaded, a later retry may well succeed), and a
// serialization failure or deadlock (40001, 40P01), which a retry resolves. Constraint and syntax errors stay 500s.
const POSTGRES_UNAVAILABLE = /^(08...|53...|57...|40001|40P01)$/;
// The socket under a pooled connection: the server went away or restarted. node-postgres reports a connection lost
// mid-query without a code, by its message.
const SOCKET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const CONNECTION_LOST = /^Connection terminated/;

export function isStorageUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return SQLITE_UNAVAILABLE.test(code) || POSTGRES_UNAVAILABLE.test(code) || SOCKET_UNAVAILABLE.has(code);
  return error instanceof Error && CONNECTION_LOST.test(error.message);
}

/**
 * Errors Fastify answers before routing (a malformed URL, a path parameter over the length limit): problem bodies
 * too. The URL is not echoed back: it may carry the webhook token.
 */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : 'the URL is malformed';
  void sendProblem(reply, status, detail);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) {
      for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
      return sendProblem(reply, error.status, error.detail, error.extra.errors);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((issue) => ({
        path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: issue.message ?? 'invalid',
      }));
      const where = error.validationContext ?? 'request';
      return sendProblem(reply, 400, `invalid ${where}: ${errors.map((e) => e.path || '(root)').join(', ')}`, errors);
    }
    if (isStorageUnavailable(error)) {
      request.log.error({ err: error }, 'storage unavailable');
      reply.header('retry-after', '5');
      return sendProblem(reply, 503, 'storage is unavailable; retry later');
    }
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, 415, 'Content-Type must be application/json');
    if (status >= 400 && status < 500) return sendProblem(reply, status, error.message);
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, status >= 500 ? status : 500);
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, `no route for ${request.method} ${request.url.split('?')[0]}`));
}
