// The signed-in pages and their form posts. Each reads the storage contract and renders one page component; every
// POST answers with a redirect (303) so a reload never repeats it.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { EVENT_TYPES, payloadSchemas, type EventType, type Payload } from '../chatlio/index.js';
import { DELIVERY_STATUSES, type DeliveryStatus, type EventRow, type Storage } from '../store/storage.js';
import { HttpProblem, fieldErrors } from '../errors.js';
import { parseJson } from '../json.js';
import { eventJsonParts, toEventJsonText } from '../api/event-json.js';
import { csvField, CSV_COLUMNS } from '../api/export.js';
import { sanitisedDocument } from './html-body.js';
import { DAY_MS, param, paramUpTo, parseDay, readFilters, type Query } from './filters.js';
import { noticeFrom } from './notices.js';
import { payloadOf, viewEvent } from './payload.js';
import { summariseDeliveries } from './deliveries-summary.js';
import { countMatching, REDELIVERABLE, type BulkFilter, type Redeliverable } from './bulk.js';
import type { UiOptions } from './plugin.js';
import { sendPage } from './render.js';
import type { LiveStreams } from './live.js';
import { InboxPage } from './pages/inbox.js';
import { ConversationPage, type EarlierChat } from './pages/conversation.js';
import { EventPage } from './pages/event.js';
import { ConfirmBulkPage, DeliveriesPage, type HandlerCounts } from './pages/deliveries.js';
import { RejectionPage, RejectionsPage } from './pages/rejections.js';
import { StatsPage } from './pages/stats.js';
import { ErasePage } from './pages/erase.js';

const PAGE_SIZE = 50;
const EXPORT_PAGE = 200;
const STATS_DEFAULT_DAYS = 30;
const STATS_MAX_DAYS = 366;

const queryOf = (request: FastifyRequest) => request.query as Query;
const bodyOf = (request: FastifyRequest) => (request.body ?? {}) as Query;

async function findEvent(storage: Storage, id: string): Promise<EventRow> {
  const seq = storage.parseEventId(id);
  const row = seq === undefined ? undefined : await storage.getEvent(seq);
  if (!row) throw new HttpProblem(404, `There is no event ${id}.`);
  return row;
}

/** A positive integer query parameter (a page key), or undefined; anything else is a 400. */
function pageKey(query: Query, name = 'before'): number | undefined {
  const text = param(query, name);
  if (text === '') return undefined;
  const value = Number(text);
  if (!/^\d{1,15}$/.test(text) || value < 1) throw new HttpProblem(400, `${name} must be a page key from a link on this site.`);
  return value;
}

/** A yyyy-mm-ddThh:mm from a datetime-local input, read as UTC. */
function parseInstant(value: string, name: string): number | undefined {
  if (value === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? Date.parse(`${value}Z`) : Number.NaN;
  if (!Number.isFinite(ms)) throw new HttpProblem(400, `${name} must be a date and time.`);
  return ms;
}

function bulkFilter(query: Query): BulkFilter & { from: string; to: string } {
  const status = param(query, 'status') || 'dead';
  if (!(REDELIVERABLE as readonly string[]).includes(status)) throw new HttpProblem(400, `Only ${REDELIVERABLE.join(', ')} deliveries can be redelivered.`);
  const from = param(query, 'from');
  const to = param(query, 'to');
  const handler = param(query, 'handler');
  const filter: BulkFilter & { from: string; to: string } = { status: status as Redeliverable, from, to };
  if (handler) filter.handler = handler;
  const since = parseInstant(from, 'from');
  const until = parseInstant(to, 'to');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  return filter;
}

export const pageRoutes = {
  async htmlBody({ storage }: UiOptions, request: FastifyRequest, reply: FastifyReply) {
    const row = await findEvent(storage, (request.params as { id: string }).id);
    const htmlBody = payloadOf(row).htmlBody;
    if (typeof htmlBody !== 'string' || htmlBody.trim() === '') throw new HttpProblem(404, 'This event has no HTML body.');
    return reply.type('text/html; charset=utf-8').send(sanitisedDocument(htmlBody));
  },

  plugin: (async (app, options) => {
    const { storage, dispatch, ingest, live } = options;
    const handlerNames = () => dispatch?.config.handlers.map((handler) => handler.name) ?? [];

    app.get('/', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const { form, filter, errors } = readFilters(query);
      const before = pageKey(query);
      const csrfToken = request.uiSession!.csrfToken;
      const handlers = handlerNames();
      if (errors.length > 0) return sendPage(reply, InboxPage({ csrfToken, form, handlers, rows: [], next: null, paged: false, errors }), 400);
      const page = await storage.listEvents(filter, { before, limit: PAGE_SIZE });
      // One query for the whole page's deliveries, not one per row.
      const deliveries = await storage.deliveriesForEvents(page.rows.map((row) => row.seq));
      const rows = page.rows.map((row) => ({
        row,
        view: viewEvent(row),
        deliveries: summariseDeliveries(deliveries.filter((delivery) => delivery.eventSeq === row.seq)),
      }));
      return sendPage(reply, InboxPage({ csrfToken, form, handlers, rows, next: page.next, paged: before !== undefined, errors, notice: noticeFrom(query) }));
    });

    app.get('/live', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const { filter, errors } = readFilters(query);
      if (errors.length > 0) throw new HttpProblem(400, errors.join('; '));
      const after = param(query, 'after');
      const afterSeq = after === '' ? 0 : storage.parseEventId(after);
      if (afterSeq === undefined) throw new HttpProblem(400, 'after must be an event id.');
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        // nginx buffers responses by default; an event stream must pass through as it is written.
        'x-accel-buffering': 'no',
      });
      live.stream(reply.raw, filter, afterSeq, (error) => request.log.error({ err: error }, 'live inbox poll failed'));
    });

    app.get('/export', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const format = param(query, 'format') || 'ndjson';
      if (format !== 'ndjson' && format !== 'csv') throw new HttpProblem(400, 'format must be ndjson or csv.');
      const { filter, errors } = readFilters(query);
      if (errors.length > 0) throw new HttpProblem(400, errors.join('; '));
      async function* lines(): AsyncGenerator<string> {
        if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
        let before: number | undefined;
        for (;;) {
          const page = await storage.listEvents(filter, { before, limit: EXPORT_PAGE });
          let chunk = '';
          for (const row of page.rows) {
            if (format === 'ndjson') chunk += `${toEventJsonText(row)}\n`;
            else {
              const { head, payloadText } = eventJsonParts(row);
              const cells = [head.id, head.type, head.receivedAt, head.conversationUUID, head.visitor.uuid, head.visitor.email, head.visitor.name, head.rating, head.summary, payloadText];
              chunk += `${cells.map(csvField).join(',')}\r\n`;
            }
          }
          if (chunk) yield chunk;
          if (page.next === null) return;
          before = page.next;
        }
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="chatlio-events-${stamp}.${format}"`)
        .send(Readable.from(lines()));
    });

    app.get('/conversations/:uuid', { schema: { hide: true } }, async (request, reply) => {
      const uuid = (request.params as { uuid: string }).uuid;
      const rows = uuid.length <= 200 ? await storage.conversation(uuid) : [];
      if (rows.length === 0) throw new HttpProblem(404, 'No stored event belongs to this conversation.');
      const views = rows.map((row) => ({ row, view: viewEvent(row) }));
      // The latest transcript holds the whole chat; earlier events say who the visitor is when there is none yet.
      const transcript = [...views].reverse().find(({ row }) => row.type === 'transcript');
      const latest = transcript ?? views.at(-1)!;
      const visitor = latest.view.visitor;
      const earlier: EarlierChat[] = [];
      const key = visitor.uuid ?? visitor.email;
      if (key) {
        const seen = new Set([uuid]);
        for (const row of (await storage.listEvents({ visitor: key }, { limit: PAGE_SIZE })).rows) {
          if (!row.conversationUUID || seen.has(row.conversationUUID)) continue;
          seen.add(row.conversationUUID);
          earlier.push({ conversationUUID: row.conversationUUID, receivedAt: row.receivedAt, summary: viewEvent(row).summary });
        }
      }
      return sendPage(
        reply,
        ConversationPage({
          csrfToken: request.uiSession!.csrfToken,
          uuid,
          events: views.map(({ row, view }) => ({ row, summary: view.summary })),
          messages: transcript?.view.messages ?? [],
          visitor,
          rating: [...views].reverse().find(({ row }) => row.rating !== null)?.row.rating ?? null,
          earlier,
        }),
      );
    });

    app.get('/events/:id', { schema: { hide: true } }, async (request, reply) => {
      const row = await findEvent(storage, (request.params as { id: string }).id);
      const deliveries = await storage.deliveriesForEvent(row.seq);
      const withAttempts = await Promise.all(deliveries.map(async (delivery) => ({ delivery, attempts: await storage.attempts(delivery.seq) })));
      const taken = new Set(deliveries.map((delivery) => delivery.handler));
      return sendPage(
        reply,
        EventPage({
          csrfToken: request.uiSession!.csrfToken,
          row,
          view: viewEvent(row),
          deliveries: withAttempts,
          otherHandlers: handlerNames().filter((name) => !taken.has(name)),
          notice: noticeFrom(queryOf(request)),
        }),
      );
    });

    app.get('/events/:id/raw', { schema: { hide: true } }, async (request, reply) => {
      const row = await findEvent(storage, (request.params as { id: string }).id);
      // An attachment: the bytes are the visitor's, and must never render as a page of ours.
      return reply.type('application/json').header('content-disposition', `attachment; filename="${row.id}.json"`).send(row.raw);
    });

    app.post('/events/:id/redeliver', { schema: { hide: true } }, async (request, reply) => {
      const row = await findEvent(storage, (request.params as { id: string }).id);
      const only = param(bodyOf(request), 'handler') || undefined;
      const existing = (await storage.deliveriesForEvent(row.seq)).map((delivery) => delivery.handler);
      if (only !== undefined && !handlerNames().includes(only) && !existing.includes(only)) {
        throw new HttpProblem(404, `There is no handler named ${only}.`);
      }
      // A handler added to the config after the event arrived gets its first delivery now.
      const event = { type: row.type, payload: payloadOf(row), conversationUUID: row.conversationUUID, receivedAt: row.receivedAt };
      const create = dispatch?.missing(event, existing, only) ?? [];
      const redelivered = await storage.redeliverEvent(row.seq, { create, handlers: only === undefined ? undefined : [only] });
      request.log.info({ event: row.id, handler: only, redelivered: redelivered.length }, 'redelivery from the web inbox');
      return reply.redirect(`/ui/events/${row.id}?notice=redelivered&n=${redelivered.length}`, 303);
    });

    app.get('/deliveries', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const status = (param(query, 'status') || 'dead') as DeliveryStatus;
      if (!DELIVERY_STATUSES.includes(status)) throw new HttpProblem(400, `status must be one of ${DELIVERY_STATUSES.join(', ')}.`);
      const handler = param(query, 'handler');
      const before = pageKey(query);
      const page = await storage.listDeliveries(handler ? { status, handler } : { status }, { before, limit: PAGE_SIZE + 1 });
      const shown = page.slice(0, PAGE_SIZE);
      // By delivery: an event's summary, or for an alert's notification (no event) what it announced.
      const summaries = new Map<number, string>();
      const eventSummaries = new Map<number, string>();
      for (const delivery of shown) {
        if (delivery.eventSeq === null) {
          summaries.set(delivery.seq, `alert ${delivery.alertId ?? ''} (${delivery.alertAction ?? 'trigger'})`);
          continue;
        }
        if (!eventSummaries.has(delivery.eventSeq)) {
          const event = await storage.getEvent(delivery.eventSeq);
          eventSummaries.set(delivery.eventSeq, event ? viewEvent(event).summary : (delivery.eventId ?? ''));
        }
        summaries.set(delivery.seq, eventSummaries.get(delivery.eventSeq)!);
      }
      const byHandler = await handlerCounts(storage);
      const handlers = [...new Set([...handlerNames(), ...byHandler.map((row) => row.handler)])].sort();
      return sendPage(
        reply,
        DeliveriesPage({
          csrfToken: request.uiSession!.csrfToken,
          status,
          handler,
          handlers,
          byHandler,
          rows: shown.map((delivery) => ({ delivery, summary: summaries.get(delivery.seq)! })),
          next: page.length > PAGE_SIZE ? shown.at(-1)!.seq : null,
          paged: before !== undefined,
          notice: noticeFrom(query),
        }),
      );
    });

    app.get('/deliveries/redeliver', { schema: { hide: true } }, async (request, reply) => {
      const filter = bulkFilter(queryOf(request));
      const { count, capped } = await countMatching(storage, filter);
      return sendPage(
        reply,
        ConfirmBulkPage({ csrfToken: request.uiSession!.csrfToken, status: filter.status, handler: filter.handler ?? '', from: filter.from, to: filter.to, count, capped }),
      );
    });

    app.post('/deliveries/redeliver', { schema: { hide: true } }, async (request, reply) => {
      const { from: _from, to: _to, ...filter } = bulkFilter(bodyOf(request));
      const redelivered = await storage.redeliverAll(filter);
      request.log.info({ redelivered, ...filter }, 'bulk redelivery from the web inbox');
      const back = new URLSearchParams({ status: filter.status, notice: 'redelivered', n: String(redelivered) });
      if (filter.handler) back.set('handler', filter.handler);
      return reply.redirect(`/ui/deliveries?${back.toString()}`, 303);
    });

    app.get('/rejections', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const before = pageKey(query);
      const rows = await storage.listRejections({ before, limit: PAGE_SIZE + 1 });
      const shown = rows.slice(0, PAGE_SIZE);
      return sendPage(
        reply,
        RejectionsPage({
          csrfToken: request.uiSession!.csrfToken,
          rows: shown,
          next: rows.length > PAGE_SIZE ? shown.at(-1)!.id : null,
          paged: before !== undefined,
          notice: noticeFrom(query),
        }),
      );
    });

    const findRejection = async (request: FastifyRequest) => {
      const text = (request.params as { id: string }).id;
      const row = /^\d{1,15}$/.test(text) ? await storage.getRejection(Number(text)) : undefined;
      if (!row) throw new HttpProblem(404, `There is no rejection ${text}.`);
      return row;
    };

    app.get('/rejections/:id', { schema: { hide: true } }, async (request, reply) =>
      sendPage(reply, RejectionPage({ csrfToken: request.uiSession!.csrfToken, row: await findRejection(request) })),
    );

    app.post('/rejections/:id/replay', { schema: { hide: true } }, async (request, reply) => {
      const row = await findRejection(request);
      const csrfToken = request.uiSession!.csrfToken;
      let json: unknown;
      try {
        json = parseJson(row.raw.toString('utf8'));
      } catch (error) {
        return sendPage(reply, RejectionPage({ csrfToken, row, notice: `Still refused: the body is not JSON (${(error as Error).message}).` }), 422);
      }
      const result = payloadSchemas[row.type].safeParse(json);
      if (!result.success) {
        return sendPage(reply, RejectionPage({ csrfToken, row, errors: fieldErrors(result.error), notice: 'Still refused: the body does not pass validation yet.' }), 422);
      }
      // receivedAt is now: the event enters the store now, and arrival order is what time filters rely on.
      const event = await ingest({ type: row.type, raw: row.raw, payload: result.data as Payload, receivedAt: Date.now() });
      await storage.removeRejection(row.id);
      request.log.info({ rejection: row.id, event: event.id }, 'rejection replayed from the web inbox');
      return reply.redirect(`/ui/events/${event.id}?notice=${event.duplicate ? 'replayed-duplicate' : 'replayed'}`, 303);
    });

    app.get('/stats', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      let from = param(query, 'from') || day(today - (STATS_DEFAULT_DAYS - 1) * DAY_MS);
      let to = param(query, 'to') || day(today);
      let since = parseDay(from);
      let until = parseDay(to);
      let error: string | undefined;
      if (since === undefined || until === undefined || since > until || until - since >= STATS_MAX_DAYS * DAY_MS) {
        error = `From and to must be dates, from not after to, at most ${STATS_MAX_DAYS} days apart; showing the last ${STATS_DEFAULT_DAYS} days.`;
        since = today - (STATS_DEFAULT_DAYS - 1) * DAY_MS;
        until = today;
        from = day(since);
        to = day(until);
      }
      const range = { since, until: until + DAY_MS };
      const [counts, ratings, firstResponseSeconds, deliveries] = await Promise.all([
        storage.countsByTypeAndDay(range),
        storage.ratings(range),
        storage.firstResponseSeconds(range),
        storage.deliveryCounts(range),
      ]);
      const zero = () => Object.fromEntries(EVENT_TYPES.map((type) => [type, 0])) as Record<EventType, number>;
      // Every day of the range gets a bar, empty days too, so the time axis is even.
      const days = [];
      for (let at = since; at <= until; at += DAY_MS) days.push({ day: day(at), byType: zero(), total: 0 });
      const byDay = new Map(days.map((entry) => [entry.day, entry]));
      for (const row of counts) {
        const entry = byDay.get(row.day);
        if (!entry) continue;
        entry.byType[row.type] += row.n;
        entry.total += row.n;
      }
      return sendPage(
        reply,
        StatsPage({ csrfToken: request.uiSession!.csrfToken, from, to, days, ratings, firstResponseSeconds, deliveries, error }),
        error ? 400 : 200,
      );
    });

    app.get('/visitors/erase', { schema: { hide: true } }, async (request, reply) => {
      const query = queryOf(request);
      const key = paramUpTo(query, 'key', 320);
      const events = key ? (await storage.listEvents({ visitor: key }, { limit: 1000 })).rows.length : undefined;
      return sendPage(reply, ErasePage({ csrfToken: request.uiSession!.csrfToken, key, events, notice: noticeFrom(query) }));
    });

    app.post('/visitors/erase', { schema: { hide: true } }, async (request, reply) => {
      const body = bodyOf(request);
      const key = param(body, 'key');
      const csrfToken = request.uiSession!.csrfToken;
      if (key === '' || key.length > 320) throw new HttpProblem(400, 'Name the visitor by email or UUID.');
      // Typed again, exactly (emails without regard to case, as erasure matches them): a slip of the mouse erases nothing.
      if (param(body, 'confirm').toLowerCase() !== key.toLowerCase()) {
        const events = (await storage.listEvents({ visitor: key }, { limit: 1000 })).rows.length;
        return sendPage(reply, ErasePage({ csrfToken, key, events, error: 'The confirmation does not match; nothing was erased.' }), 400);
      }
      const removed = await storage.deleteVisitor(key);
      request.log.info({ removed }, 'visitor erased from the web inbox');
      return reply.redirect(`/ui/visitors/erase?notice=erased&n=${removed.events}&r=${removed.rejections}`, 303);
    });
  }) as FastifyPluginAsync<UiOptions & { live: LiveStreams }>,
};

/** The backlog by handler: waiting, running and dead deliveries, counted by the storage without a scan. */
async function handlerCounts(storage: Storage): Promise<HandlerCounts> {
  const byHandler = new Map<string, Partial<Record<DeliveryStatus, number>>>();
  for (const row of (await storage.backlog()).byHandlerAndStatus) {
    const counts = byHandler.get(row.handler) ?? {};
    counts[row.status] = (counts[row.status] ?? 0) + row.count;
    byHandler.set(row.handler, counts);
  }
  return [...byHandler.entries()].map(([handler, counts]) => ({ handler, counts })).sort((a, b) => a.handler.localeCompare(b.handler));
}
