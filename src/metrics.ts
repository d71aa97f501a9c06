// Prometheus metrics: one registry per context (so tests can build several apps), the ingest counters, and GET /metrics.
import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppContext } from './context.js';
import { ALERT_KINDS, type Storage } from './store/storage.js';
import type { EventType } from './chatlio/index.js';
import { requireApiToken } from './api/auth.js';

/** What became of one webhook request, as counted by chatlio_relay_webhooks_received_total. */
export type WebhookOutcome =
  | 'stored'
  | 'duplicate'
  | 'rejected'
  | 'unauthorized'
  | 'malformed'
  | 'too_large'
  | 'unsupported'
  | 'unavailable'
  | 'error';

/** Maps a webhook response to its outcome; `duplicate` is known only from the handler's answer. */
export function webhookOutcome(statusCode: number, duplicate: boolean): WebhookOutcome {
  if (statusCode >= 200 && statusCode < 300) return duplicate ? 'duplicate' : 'stored';
  switch (statusCode) {
    case 401:
      return 'unauthorized';
    case 400:
      return 'malformed';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported';
    case 422:
      return 'rejected';
    case 503:
      return 'unavailable';
    default:
      return 'error';
  }
}

export type Metrics = {
  registry: Registry;
  /** Counts one answered webhook; `seconds` (request start → response) feeds the latency histogram for stored and duplicate ones. */
  webhookAnswered: (type: EventType, outcome: WebhookOutcome, seconds: number) => void;
};

// Group commit answers in about a millisecond, so the buckets start well below prom-client's 5 ms default.
const INGEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(options: { storage: Pick<Storage, 'sizeBytes' | 'openAlerts'> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const received = new Counter({
    name: 'chatlio_relay_webhooks_received_total',
    help: 'Webhook requests answered, by event type and outcome (stored, duplicate, rejected, unauthorized, malformed, too_large, unsupported, unavailable, error).',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const ingestDuration = new Histogram({
    name: 'chatlio_relay_ingest_duration_seconds',
    help: 'Time from receiving a webhook request to answering it, for stored and duplicate events (includes the durable commit).',
    labelNames: ['type'] as const,
    buckets: INGEST_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'chatlio_relay_database_size_bytes',
    help: 'Size of the database on disk (SQLite: the main file plus its write-ahead log; PostgreSQL: pg_database_size).',
    registers: [registry],
    // Not cached: both are a few stat() calls (pg_database_size stats the database's files, it reads no rows).
    async collect() {
      this.set(await options.storage.sizeBytes());
    },
  });

  new Gauge({
    name: 'chatlio_relay_alerts_open',
    help: 'Operational alerts open now, by kind (dead, failing, overdue, silence, rejections); read from the database, so every replica reports them.',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const open = await options.storage.openAlerts();
      // Every kind always present, so an alerting rule on "> 0" sees 0 rather than no series.
      for (const kind of ALERT_KINDS) this.set({ kind }, open.filter((alert) => alert.kind === kind).length);
    },
  });

  // Each webhook answer updates two series: their children are kept, since looking one up by a label object hashes
  // the labels on every call (a few µs a request at thousands of requests a second).
  const answered = new Map<string, { received: { inc(): void }; duration: { observe(seconds: number): void } }>();
  return {
    registry,
    webhookAnswered(type, outcome, seconds) {
      const key = `${type} ${outcome}`;
      let series = answered.get(key);
      if (!series) answered.set(key, (series = { received: received.labels({ type, outcome }), duration: ingestDuration.labels({ type }) }));
      series.received.inc();
      if (outcome === 'stored' || outcome === 'duplicate') series.duration.observe(seconds);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Delivery metrics: gauges read the storage's backlog at scrape time; the worker counts finished attempts.

/** A snapshot of the backlog (waiting, running and dead deliveries), read at scrape time (once per delivery gauge). */
export type DeliveryStats = {
  /** Row counts by handler name and delivery status (pending, failed, running, dead). */
  byHandlerAndStatus: Array<{ handler: string; status: string; count: number }>;
  pending: number;
  dead: number;
  /** Seconds since the oldest pending delivery was created; null when nothing is pending. */
  oldestPendingAgeSeconds: number | null;
};

export type DeliveryMetrics = {
  /** Counts one finished delivery attempt (outcome e.g. delivered, failed, dead). */
  attemptFinished: (handler: string, outcome: string) => void;
};

export function registerDeliveryMetrics(registry: Registry, readStats: () => DeliveryStats | Promise<DeliveryStats>): DeliveryMetrics {
  const attempts = new Counter({
    name: 'chatlio_relay_delivery_attempts_total',
    help: 'Delivery attempts finished, by handler and outcome.',
    labelNames: ['handler', 'outcome'] as const,
    registers: [registry],
  });
  // Each gauge reads at scrape time, so readStats must be cheap (a few indexed counts of the backlog): no cache to go stale.
  const stats = readStats;
  new Gauge({
    name: 'chatlio_relay_deliveries',
    help: 'Deliveries waiting, running or dead, by handler and status (succeeded and cancelled ones are not counted).',
    labelNames: ['handler', 'status'] as const,
    registers: [registry],
    async collect() {
      const { byHandlerAndStatus } = await stats();
      this.reset();
      for (const row of byHandlerAndStatus) this.set({ handler: row.handler, status: row.status }, row.count);
    },
  });
  new Gauge({
    name: 'chatlio_relay_deliveries_pending',
    help: 'Deliveries waiting for a (first or next) attempt.',
    registers: [registry],
    async collect() {
      this.set((await stats()).pending);
    },
  });
  new Gauge({
    name: 'chatlio_relay_deliveries_dead',
    help: 'Deliveries that ran out of attempts and wait for a manual redelivery.',
    registers: [registry],
    async collect() {
      this.set((await stats()).dead);
    },
  });
  new Gauge({
    name: 'chatlio_relay_oldest_pending_delivery_age_seconds',
    help: 'Age of the oldest pending delivery; 0 when nothing is pending.',
    registers: [registry],
    async collect() {
      this.set((await stats()).oldestPendingAgeSeconds ?? 0);
    },
  });
  return { attemptFinished: (handler, outcome) => attempts.inc({ handler, outcome }) };
}

/** GET /metrics in the Prometheus text format; behind the API token when METRICS_REQUIRE_TOKEN is set. */
export const metricsRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  if (ctx.config.metricsRequireToken) requireApiToken(app, ctx.tokens.api);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
};
