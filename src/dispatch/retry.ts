// The retry policy: which outcomes retry, when the next attempt is due (schedule + jitter + Retry-After), when to give up.
import type { HandlerResult } from './handler.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Standard Webhooks' schedule after the immediate first try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const STANDARD_SCHEDULE_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];
export const DEFAULT_JITTER = 0.1;
/** A Retry-After beyond this is treated as this: a remote cannot park a delivery for a week. */
export const RETRY_AFTER_MAX_MS = 24 * HOUR;

export type RetryPolicy = {
  /** The wait after attempt n (1-based) is scheduleMs[n-1]; after the last one the delivery is dead. */
  scheduleMs: number[];
  /** 0.1 spreads each wait by ±10%, so a burst of failures does not retry in lockstep. */
  jitter: number;
};

export const defaultRetryPolicy = (): RetryPolicy => ({ scheduleMs: [...STANDARD_SCHEDULE_MS], jitter: DEFAULT_JITTER });

// Timeout, conflict, too early, too many requests: the remote may well accept the same request later.
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

export function classifyStatus(statusCode: number): 'success' | 'retry' | 'dead' {
  if (statusCode >= 200 && statusCode < 300) return 'success';
  if (statusCode >= 400 && statusCode < 500 && !RETRYABLE_4XX.has(statusCode)) return 'dead';
  return 'retry';
}

/** Retry-After as seconds or an HTTP date → milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value) * SECOND, RETRY_AFTER_MAX_MS);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - now, 0), RETRY_AFTER_MAX_MS);
}

export type Decision = { status: 'succeeded' } | { status: 'dead' } | { status: 'failed'; delayMs: number };

/**
 * What happens after attempt number `attempt` ended with `result`.
 * A manual redelivery gets one attempt: if it fails, the delivery is dead again rather than starting a new round.
 */
export function decide(
  result: HandlerResult,
  attempt: number,
  policy: RetryPolicy,
  options: { manual?: boolean; random?: () => number } = {},
): Decision {
  if (result.ok) return { status: 'succeeded' };
  if (result.permanent) return { status: 'dead' };
  if (result.statusCode !== undefined && classifyStatus(result.statusCode) === 'dead') return { status: 'dead' };
  if (options.manual) return { status: 'dead' };
  const scheduled = policy.scheduleMs[attempt - 1];
  if (scheduled === undefined) return { status: 'dead' };
  const random = options.random ?? Math.random;
  const jittered = Math.round(scheduled * (1 + policy.jitter * (2 * random() - 1)));
  return { status: 'failed', delayMs: Math.max(jittered, Math.min(result.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS)) };
}
