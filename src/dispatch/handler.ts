// The contract every handler implements, built-in or loaded from a file: deliver one event, say how it went.
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { EventJson } from '../api/event-json.js';
import type { AlertNotice } from '../alerts/notice.js';

/** The event as handlers see it: the API's JSON view plus the exact bytes Chatlio sent. */
export type DispatchEvent = EventJson & { raw: Buffer };

/** The event without its raw bytes: what a command reads on stdin and a log line shows. */
export function eventJsonOf(event: DispatchEvent): EventJson {
  const { raw, ...json } = event;
  return json;
}

export type HandlerContext = {
  /** Aborted when the attempt times out or the process shuts down: pass it to fetch, kill children on it. */
  signal: AbortSignal;
  logger: Logger;
  /** 1 for the first try. */
  attempt: number;
  /** Stable across retries of the same delivery (used as the Standard Webhooks message id). */
  deliveryId: string;
  /** The handler's name in the config file. */
  handler: string;
  /** What this handler returned as `state` on an earlier attempt of this delivery, if anything. */
  state: unknown;
};

export type HandlerResult = {
  ok: boolean;
  /** The remote's HTTP status, if there was one: it decides retry (5xx, 408, 409, 425, 429) or dead (other 4xx). */
  statusCode?: number;
  /** Marks a failure that no retry can fix, whatever the status code. */
  permanent?: boolean;
  /** What went wrong, for the attempt record. */
  error?: string;
  /** The remote's answer or the command's output, for the attempt record (cut to 4 KB). */
  response?: string;
  /** An id the remote side gave to what was created, e.g. the Zendesk ticket id; kept on the delivery. */
  externalId?: string;
  /** The remote asked to wait this long before trying again (Retry-After). */
  retryAfterMs?: number;
  /** JSON-serialisable progress kept on the delivery and handed back as ctx.state on the next attempt. */
  state?: unknown;
};

export interface Handler {
  deliver(event: DispatchEvent, ctx: HandlerContext): Promise<HandlerResult>;
  /** Sends an operational alert (or its resolution); only handler types that can be named in `alerts.notify` have it. */
  deliverAlert?(notice: AlertNotice, ctx: HandlerContext): Promise<HandlerResult>;
}

/** What a handler factory receives besides its own options. */
export type HandlerDeps = {
  name: string;
  logger: Logger;
  /** The directory of the config file, for resolving relative paths. */
  configDir: string;
  /** LOG_MASK_PII: handlers that log visitor data mask it when true. */
  maskPii: boolean;
};

/** A handler type: the zod schema of its `options` and a factory; built-ins and `module` handlers alike. */
export type HandlerType<Options = unknown> = {
  options: z.ZodType<Options>;
  create(options: Options, deps: HandlerDeps): Handler | Promise<Handler>;
};

/** A handler type with its options type erased, as the registry and the config loader hold it. */
export type AnyHandlerType = {
  options: z.ZodType;
  create(options: unknown, deps: HandlerDeps): Handler | Promise<Handler>;
};

/** Declares a handler type; its factory only ever sees options that passed its schema. */
export function defineHandlerType<Options>(type: HandlerType<Options>): AnyHandlerType {
  return { options: type.options, create: (options, deps) => type.create(type.options.parse(options), deps) };
}
