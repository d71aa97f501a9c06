// Loads CONFIG_FILE (YAML or JSON): ${VAR} from the environment, then zod validation that names the failing field.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { EVENT_TYPES, type EventType } from '../chatlio/index.js';
import { whenSchema, type When } from './rules.js';
import { STANDARD_SCHEDULE_MS, DEFAULT_JITTER, type RetryPolicy } from './retry.js';
import { HANDLER_TYPES, handlerTypes, type HandlerTypeName } from './handlers/index.js';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_TIMEOUT_MS = 15_000;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "500ms", "5s", "1.5m", "2h", "1d" → milliseconds; anything else is refused. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

export const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 500ms, 5s, 5m, 2h or 1d` });
    return z.NEVER;
  }
  return ms;
});

const eventName = z.enum(EVENT_TYPES);

const handlerSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use letters, digits, ".", "_" and "-" (at most 64), starting with a letter or digit'),
  type: z.enum(HANDLER_TYPES),
  // Optional only for a handler that just sends alerts (named in alerts.notify); checked below.
  events: z.union([z.literal('*'), z.array(z.union([eventName, z.literal('*')])).min(1)]).optional(),
  when: whenSchema.optional(),
  delay: duration.optional(),
  unlessFollowedBy: z.array(eventName).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  timeout: duration.optional(),
  options: z.unknown().optional(),
});

/**
 * Handler types that can send an operational alert (they implement deliverAlert; a module must, checked when it loads).
 * Not zendesk: a ticket is not a page, and its resolution would have to find the ticket the trigger opened.
 */
export const ALERT_NOTIFY_TYPES: readonly HandlerTypeName[] = ['slack', 'email', 'pagerduty', 'teams', 'discord', 'twilio', 'http', 'command', 'log', 'module'];

export const DEFAULT_ALERT_FAILURES = 5;
export const DEFAULT_ALERT_OVERDUE_MS = 15 * 60_000;
export const DEFAULT_ALERT_REJECTIONS_MS = 60 * 60_000;

const off = z.literal(false);
const alertsSchema = z.strictObject({
  /** Handlers (of this file) that receive the alerts. */
  notify: z.array(z.string().min(1)).min(1),
  /** A handler has dead deliveries. */
  dead: z.boolean().optional(),
  /** A handler failed this many attempts in a row. */
  failures: z.union([z.number().int().min(1).max(10_000), off]).optional(),
  /** A handler's oldest waiting delivery is overdue by this much. */
  overdue: z.union([duration, off]).optional(),
  /** No webhook of any type arrived for this long (off unless set). */
  silence: z.union([duration, off]).optional(),
  /** A payload was refused (422) within this long. */
  rejections: z.union([duration, off]).optional(),
});

/** The alerts section with its defaults applied; null means the condition is off. */
export type AlertRules = {
  notify: string[];
  dead: boolean;
  failures: number | null;
  overdueMs: number | null;
  silenceMs: number | null;
  rejectionsMs: number | null;
};

const fileSchema = z.strictObject({
  alerts: alertsSchema.optional(),
  retry: z
    .strictObject({
      schedule: z.array(duration).optional(),
      jitter: z.number().min(0).max(1).optional(),
    })
    .optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  timeout: duration.optional(),
  handlers: z.array(handlerSchema),
});

export type HandlerConfig = {
  name: string;
  type: HandlerTypeName;
  events: readonly EventType[] | '*';
  when?: When;
  delayMs: number;
  unlessFollowedBy: EventType[];
  concurrency: number;
  timeoutMs: number;
  /** Validated against the handler type's own schema. */
  options: unknown;
};

export type DispatchConfig = {
  file: string;
  dir: string;
  retry: RetryPolicy;
  handlers: HandlerConfig[];
  /** Operational alerts; absent when the file has no alerts section. */
  alerts?: AlertRules;
};

export class DispatchConfigError extends ConfigError {
  override name = 'DispatchConfigError';
}

type Issue = { path: Array<string | number>; message: string };

const formatPath = (path: ReadonlyArray<PropertyKey>) =>
  path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');

function fail(file: string, issues: Issue[]): never {
  const lines = issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
  throw new DispatchConfigError(`invalid config file ${file}:\n  ${lines.join('\n  ')}`);
}

/**
 * Replaces ${VAR} and ${VAR:-default} in every string value (after parsing, so a value can never break the YAML around
 * it). As in the shell, the default is used when VAR is unset or empty; it runs to the first "}".
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: Array<string | number> = [], issues: Issue[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_whole, name: string, fallback: string | undefined) => {
      const replacement = env[name];
      if (replacement === undefined || replacement === '') {
        if (fallback !== undefined) return fallback;
        issues.push({ path, message: `environment variable ${name} is not set` });
        return '';
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, [...path, index], issues));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, [...path, key], issues)]));
  }
  return value;
}

/** Validates an already-parsed config object; `file` is only used in messages and to resolve relative paths. */
export function parseDispatchConfig(input: unknown, file: string, env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  const issues: Issue[] = [];
  const substituted = substituteEnv(input, env, [], issues);
  if (issues.length > 0) fail(file, issues);
  const parsed = fileSchema.safeParse(substituted);
  if (!parsed.success) fail(file, parsed.error.issues.map((issue) => ({ path: issue.path as Array<string | number>, message: issue.message })));
  const top = parsed.data;

  const seen = new Set<string>();
  const handlers = top.handlers.map((handler, index): HandlerConfig => {
    if (seen.has(handler.name)) issues.push({ path: ['handlers', index, 'name'], message: `"${handler.name}" is used by another handler` });
    seen.add(handler.name);
    const options = handlerTypes[handler.type].options.safeParse(handler.options);
    if (!options.success) {
      for (const issue of options.error.issues) {
        issues.push({ path: ['handlers', index, 'options', ...(issue.path as Array<string | number>)], message: issue.message });
      }
    }
    if (handler.events === undefined && !top.alerts?.notify.includes(handler.name)) {
      issues.push({ path: ['handlers', index, 'events'], message: 'required (only a handler named in alerts.notify may go without events)' });
    }
    const events = handler.events === undefined ? [] : handler.events === '*' || handler.events.includes('*') ? '*' : (handler.events as EventType[]);
    return {
      name: handler.name,
      type: handler.type,
      events,
      when: handler.when,
      delayMs: handler.delay ?? 0,
      unlessFollowedBy: handler.unlessFollowedBy ?? [],
      concurrency: handler.concurrency ?? top.concurrency ?? DEFAULT_CONCURRENCY,
      timeoutMs: handler.timeout ?? top.timeout ?? DEFAULT_TIMEOUT_MS,
      options: options.success ? options.data : undefined,
    };
  });
  const alerts = top.alerts ? alertRules(top.alerts, handlers, issues) : undefined;
  if (issues.length > 0) fail(file, issues);

  return {
    file,
    dir: dirname(resolve(file)),
    retry: { scheduleMs: top.retry?.schedule ?? [...STANDARD_SCHEDULE_MS], jitter: top.retry?.jitter ?? DEFAULT_JITTER },
    handlers,
    alerts,
  };
}

function alertRules(section: z.infer<typeof alertsSchema>, handlers: HandlerConfig[], issues: Issue[]): AlertRules {
  section.notify.forEach((name, index) => {
    const handler = handlers.find((candidate) => candidate.name === name);
    if (!handler) issues.push({ path: ['alerts', 'notify', index], message: `no handler is named "${name}"` });
    else if (!ALERT_NOTIFY_TYPES.includes(handler.type)) {
      issues.push({ path: ['alerts', 'notify', index], message: `a ${handler.type} handler cannot send alerts; use one of ${ALERT_NOTIFY_TYPES.join(', ')}` });
    }
  });
  const orNull = <T>(value: T | false | undefined, fallback: T | null): T | null => (value === false ? null : (value ?? fallback));
  return {
    notify: [...new Set(section.notify)],
    dead: section.dead ?? true,
    failures: orNull(section.failures, DEFAULT_ALERT_FAILURES),
    overdueMs: orNull(section.overdue, DEFAULT_ALERT_OVERDUE_MS),
    silenceMs: orNull(section.silence, null),
    rejectionsMs: orNull(section.rejections, DEFAULT_ALERT_REJECTIONS_MS),
  };
}

/** Reads and validates CONFIG_FILE; throws DispatchConfigError naming each bad field and why. */
export function loadDispatchConfig(file: string, env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DispatchConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    input = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new DispatchConfigError(`config file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  return parseDispatchConfig(input ?? {}, file, env);
}
