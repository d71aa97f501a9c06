// One outgoing HTTP request as a handler result: status, the answer cut to size, Retry-After, network errors as text.
import type { HandlerResult } from './handler.js';
import { parseRetryAfter } from './retry.js';
import { RESPONSE_MAX_CHARS } from '../store/deliveries.js';
import { cutText } from '../text.js';

export type OutboundRequest = {
  method?: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string | Buffer;
  signal: AbortSignal;
};

export type OutboundResult = HandlerResult & { body?: string };

export const USER_AGENT = 'chatlio-relay';

function describe(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason.message : 'aborted';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${(error as Error).message} (${detail})` : (error as Error).message;
}

/** Sends the request; never throws: a refused connection or a timeout is a failed result to retry. */
export async function send(url: string, request: OutboundRequest): Promise<OutboundResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'POST',
      headers: { 'user-agent': USER_AGENT, ...request.headers },
      body: typeof request.body === 'string' ? request.body : new Uint8Array(request.body),
      signal: request.signal,
      redirect: 'manual',
    });
  } catch (error) {
    return { ok: false, error: describe(error, request.signal) };
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    return { ok: false, statusCode: response.status, error: `reading the answer failed: ${describe(error, request.signal)}` };
  }
  const ok = response.status >= 200 && response.status < 300;
  const shown = cutText(body, RESPONSE_MAX_CHARS, '');
  return {
    ok,
    statusCode: response.status,
    response: shown,
    body,
    error: ok ? undefined : `HTTP ${response.status}${shown ? `: ${cutText(shown, 200)}` : ''}`,
    retryAfterMs: ok ? undefined : parseRetryAfter(response.headers.get('retry-after')),
  };
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Drops the raw body from a result before it is stored. */
export function asResult({ body: _body, ...result }: OutboundResult): HandlerResult {
  return result;
}
