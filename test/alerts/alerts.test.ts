// Operational alerts end to end on a real app and worker: each condition raised once, deduplicated, resolved, kept
// across a restart, delivered through the notify handler, and never about the notify handler itself.
import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink, type SinkAnswer } from '../helpers/sink.js';
import { rmSync } from 'node:fs';
import { postWebhook, readFixture, apiHeaders, tempDir } from '../helpers/app.js';
import { waitFor } from '../helpers/server.js';
import { evaluateAlerts, startAlerts } from '../../src/alerts/evaluator.js';
import { purgeExpired } from '../../src/retention.js';
import type { AlertKind, Delivery } from '../../src/store/storage.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const MINUTE = 60_000;

/** A remote whose answer the test switches, e.g. from 503 to 200. */
async function remote(status: number): Promise<Sink & { answer: (status: number) => void }> {
  let current: SinkAnswer = { status, body: status >= 400 ? `{"error":"status ${status}"}` : 'ok' };
  const sink = await startSink(() => current);
  cleanups.push(sink.close);
  return Object.assign(sink, { answer: (next: number) => (current = { status: next, body: next >= 400 ? `{"error":"status ${next}"}` : 'ok' }) });
}

type Rules = Record<string, unknown>;
type Remote = Awaited<ReturnType<typeof remote>>;

function configOf(zendesk: Sink, ops: Sink, alerts: Rules = {}) {
  return {
    retry: { schedule: Array.from({ length: 20 }, () => '30ms'), jitter: 0 },
    handlers: [
      { name: 'zendesk', type: 'http', events: '*', options: { url: `${zendesk.url}/tickets` } },
      { name: 'ops', type: 'slack', options: { webhookUrl: `${ops.url}/slack/ops` } },
    ],
    alerts: { notify: ['ops'], ...alerts },
  };
}

async function relay(config: unknown, options: { start?: boolean; env?: Record<string, string> } = {}): Promise<DispatchApp> {
  const app = await createDispatchApp(config, options);
  cleanups.push(app.close);
  return app;
}

const slackTexts = (sink: Sink) => sink.requests.map((request) => (JSON.parse(request.body.toString()) as { text: string }).text);

/** Every notification delivery (to any handler) of the alerts, oldest first. */
async function notifications(app: DispatchApp, handler = 'ops'): Promise<Delivery[]> {
  return (await app.ctx.storage.listDeliveries({ handler }, { limit: 100 })).filter((delivery) => delivery.alertId !== null).reverse();
}

const evaluate = (app: DispatchApp, now = Date.now(), watchingSince = now) => evaluateAlerts(app.ctx, now, watchingSince);

describe('alerts: a handler failing in a row', () => {
  it('alerts once with the handler, the last error and status and a link, then sends "resolved" after the next success', async () => {
    const zendesk = await remote(503);
    const ops = await remote(200);
    const app = await relay(configOf(zendesk, ops, { failures: 3, dead: false }), { env: { PUBLIC_URL: 'https://relay.example.com' } });
    await app.post('transcript', payload('transcript'));
    await waitFor(async () => ((await app.ctx.storage.handlerHealth('zendesk'))?.consecutiveFailures ?? 0) >= 3 || undefined, 10_000, '3 failures');

    const first = await evaluate(app);
    expect(first!.opened).toMatchObject([{ kind: 'failing', subject: 'zendesk', detail: { handler: 'zendesk', lastStatusCode: 503 } }]);
    await waitFor(() => (ops.requests.length === 1 ? true : undefined), 10_000, 'the alert to reach #ops');
    const [text] = slackTexts(ops);
    expect(text).toContain('zendesk');
    expect(text).toContain('attempts failed in a row');
    expect(text).toContain('503');
    expect(text).toContain('status 503');
    expect(text).toContain('https://relay.example.com/api/deliveries?handler=zendesk&amp;status=failed');
    expect(text).toContain('What to do');

    // Still failing: evaluated again, nothing new is opened or sent.
    expect(await evaluate(app)).toEqual({ opened: [], resolved: [] });
    expect(await notifications(app)).toHaveLength(1);

    zendesk.answer(201);
    await waitFor(async () => ((await app.ctx.storage.handlerHealth('zendesk'))?.consecutiveFailures === 0 ? true : undefined), 10_000, 'a success');
    const cleared = await evaluate(app);
    expect(cleared!.resolved).toMatchObject([{ kind: 'failing', subject: 'zendesk' }]);
    await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'the resolution to reach #ops');
    expect(slackTexts(ops)[1]).toMatch(/Resolved: zendesk/);
    // The sink has the request before the worker has recorded the attempt: wait for the record, not only the request.
    await waitFor(async () => ((await notifications(app)).every((d) => d.status === 'succeeded') ? true : undefined), 10_000, 'both notifications recorded');
    expect((await notifications(app)).map((d) => [d.alertAction, d.status])).toEqual([
      ['trigger', 'succeeded'],
      ['resolve', 'succeeded'],
    ]);
    expect(await evaluate(app)).toEqual({ opened: [], resolved: [] });
  });
});

describe('alerts: dead deliveries', () => {
  it('alerts while a handler has dead deliveries, and resolves once they are redelivered', async () => {
    const zendesk = await remote(400);
    const ops = await remote(200);
    const app = await relay(configOf(zendesk, ops, { failures: false }));
    const eventId = await app.post('transcript', payload('transcript'));
    await app.settled(eventId);
    const opened = await evaluate(app);
    expect(opened!.opened).toMatchObject([
      { kind: 'dead', subject: 'zendesk', detail: { summary: 'zendesk: 1 delivery gave up (dead)', lastStatusCode: 400, advice: expect.stringContaining('replay --handler zendesk') } },
    ]);
    // The link is the API view of the dead delivery.
    const link = new URL(opened!.opened[0]!.detail.link!);
    expect(link.search).toBe('?handler=zendesk&status=dead');
    expect((await app.api('GET', `${link.pathname}${link.search}`)).json).toMatchObject({ data: [{ eventId, handler: 'zendesk', status: 'dead' }] });
    expect(await evaluate(app)).toEqual({ opened: [], resolved: [] });

    zendesk.answer(200);
    expect((await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=zendesk')).json).toEqual({ redelivered: 1 });
    await app.settled(eventId);
    expect((await evaluate(app))!.resolved).toMatchObject([{ kind: 'dead', subject: 'zendesk' }]);
    await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'trigger and resolution');
  });
});

describe('alerts: overdue deliveries', () => {
  it("alerts when a handler's oldest due delivery waits past the threshold, and resolves once it is sent", async () => {
    const zendesk = await remote(200);
    const ops = await remote(200);
    // The worker is not started: deliveries wait, as they do when the relay cannot keep up or the handler is stuck.
    const app = await relay(configOf(zendesk, ops, { overdue: '300ms' }), { start: false });
    const eventId = await app.post('transcript', payload('transcript'));
    const dueAt = (await app.deliveries(eventId))[0]!.dueAt!;
    expect(await evaluate(app, dueAt + 200)).toEqual({ opened: [], resolved: [] });
    await waitFor(() => (Date.now() > dueAt + 400 ? true : undefined), 5_000, 'the threshold to pass');
    const late = await evaluate(app);
    expect(late!.opened).toMatchObject([{ kind: 'overdue', subject: 'zendesk' }]);
    // The link lists the handler's deliveries, the waiting one among them (pending here: never tried).
    const link = new URL(late!.opened[0]!.detail.link!);
    expect(link.search).toBe('?handler=zendesk');
    expect((await app.api('GET', `${link.pathname}${link.search}`)).json).toMatchObject({ data: [{ eventId, status: 'pending' }] });
    expect(late!.opened[0]!.detail.summary).toMatch(/^zendesk: a delivery has waited \d+ s past its due time$/);
    await app.worker.start();
    await app.settled(eventId);
    await waitFor(() => (ops.requests.length === 1 ? true : undefined), 10_000, 'the alert');
    expect((await evaluate(app))!.resolved).toMatchObject([{ kind: 'overdue' }]);
    await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'the resolution');
  });

  it('sends nothing at all for an alert that cleared before its notification could go out', async () => {
    const zendesk = await remote(200);
    const ops = await remote(200);
    const app = await relay(configOf(zendesk, ops), { start: false });
    const eventId = await app.post('transcript', payload('transcript'));
    const dueAt = (await app.deliveries(eventId))[0]!.dueAt!;
    // The default threshold is 15 minutes. Opened (its notification due then) and resolved before any worker ran: the
    // trigger is cancelled and no resolution is made.
    expect(await evaluate(app, dueAt + 14 * MINUTE)).toEqual({ opened: [], resolved: [] });
    expect((await evaluate(app, dueAt + 16 * MINUTE))!.opened).toMatchObject([{ kind: 'overdue', detail: { summary: 'zendesk: a delivery has waited 16 min past its due time' } }]);
    await app.ctx.storage.deleteEvent(app.ctx.storage.parseEventId(eventId)!);
    expect((await evaluate(app, dueAt + 17 * MINUTE))!.resolved).toHaveLength(1);
    expect((await notifications(app)).map((d) => [d.alertAction, d.status])).toEqual([['trigger', 'cancelled']]);
  });
});

describe('alerts: silence', () => {
  it('is off by default', async () => {
    const app = await relay(configOf(await remote(200), await remote(200)));
    expect(await evaluate(app, Date.now() + 30 * 24 * 60 * MINUTE, Date.now())).toEqual({ opened: [], resolved: [] });
  });

  it('alerts when no webhook arrived for the configured period, counting from start while none is stored, and resolves on the next webhook', async () => {
    const ops = await remote(200);
    const app = await relay(configOf(await remote(200), ops, { silence: '24h' }));
    const now = Date.now();
    expect(await evaluate(app, now, now - 23 * 60 * MINUTE)).toEqual({ opened: [], resolved: [] });
    const quiet = await evaluate(app, now, now - 25 * 60 * MINUTE);
    expect(quiet!.opened).toMatchObject([{ kind: 'silence', subject: '', detail: { summary: 'No webhook from Chatlio for 25 h' } }]);
    await app.post('feedback', payload('feedback'));
    expect((await evaluate(app, Date.now(), now - 25 * 60 * MINUTE))!.resolved).toMatchObject([{ kind: 'silence' }]);
    await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'trigger and resolution');
    expect(slackTexts(ops)[0]).toContain('chatlio-relay urls');
  });
});

describe('alerts: rejections', () => {
  it('alerts when payloads start being refused with 422, naming the failing field, and resolves after a quiet hour', async () => {
    const app = await relay(configOf(await remote(200), await remote(200)));
    expect((await postWebhook(app.app, 'transcript', readFixture('invalid/messages-not-array.json'))).statusCode).toBe(422);
    const refused = await evaluate(app);
    expect(refused!.opened).toMatchObject([{ kind: 'rejections', detail: { lastStatusCode: 422, lastError: expect.stringMatching(/^messages: /) } }]);
    expect(await evaluate(app, Date.now() + 30 * MINUTE)).toEqual({ opened: [], resolved: [] });
    expect((await evaluate(app, Date.now() + 61 * MINUTE))!.resolved).toMatchObject([{ kind: 'rejections' }]);
  });
});

/** Every condition off but the one a test is about, so each alert seen is that condition's. */
const ONLY = { dead: false, failures: false, overdue: false, silence: false, rejections: false };

/** When to evaluate: `now`, and when the evaluating process started watching (the silence counts from it). */
type Clock = { now: number; watchingSince: number };
const clockNow = (): Clock => ({ now: Date.now(), watchingSince: Date.now() });

type Episode = {
  kind: AlertKind;
  rules: Rules;
  /** Zendesk's first answer. */
  zendesk: number;
  /** false: no worker runs until `clear` starts one (deliveries wait, as when the relay is stuck). */
  worker?: boolean;
  raise: (app: DispatchApp) => Promise<Clock>;
  clear: (app: DispatchApp, zendesk: Remote) => Promise<Clock>;
};

const EPISODES: Episode[] = [
  {
    kind: 'dead',
    rules: { dead: true },
    zendesk: 400,
    raise: async (app) => {
      await app.settled(await app.post('transcript', payload('transcript')));
      return clockNow();
    },
    clear: async (app, zendesk) => {
      zendesk.answer(200);
      await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=zendesk');
      await waitFor(async () => ((await app.ctx.storage.deadCount('zendesk')) === 0 ? true : undefined), 10_000, 'the redelivery');
      return clockNow();
    },
  },
  {
    kind: 'failing',
    rules: { failures: 2 },
    zendesk: 503,
    raise: async (app) => {
      await app.post('transcript', payload('transcript'));
      await waitFor(async () => ((await app.ctx.storage.handlerHealth('zendesk'))?.consecutiveFailures ?? 0) >= 2 || undefined, 10_000, '2 failures');
      return clockNow();
    },
    clear: async (app, zendesk) => {
      zendesk.answer(201);
      // The retries may run out around the restart: then the success comes from a redelivery.
      await waitFor(async () => {
        if ((await app.ctx.storage.handlerHealth('zendesk'))?.consecutiveFailures === 0) return true;
        await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=zendesk');
        return undefined;
      }, 10_000, 'a success');
      return clockNow();
    },
  },
  {
    kind: 'overdue',
    rules: { overdue: '300ms' },
    zendesk: 200,
    worker: false,
    raise: async (app) => {
      const dueAt = (await app.deliveries(await app.post('transcript', payload('transcript'))))[0]!.dueAt!;
      return { now: dueAt + 400, watchingSince: dueAt };
    },
    clear: async (app) => {
      await app.worker.start();
      await waitFor(async () => ((await app.ctx.storage.nextDueAt(['zendesk'])) === undefined ? true : undefined), 10_000, 'the waiting delivery to go');
      return clockNow();
    },
  },
  {
    // No event stored at all: the silence counts from the first start, and a restart must not end it; a webhook does.
    kind: 'silence',
    rules: { silence: '1h' },
    zendesk: 200,
    raise: async () => ({ now: Date.now(), watchingSince: Date.now() - 2 * 60 * MINUTE }),
    clear: async (app) => {
      await app.settled(await app.post('feedback', payload('feedback')));
      return clockNow();
    },
  },
  {
    kind: 'rejections',
    rules: { rejections: '1s' },
    zendesk: 200,
    raise: async (app) => {
      expect((await postWebhook(app.app, 'transcript', readFixture('invalid/messages-not-array.json'))).statusCode).toBe(422);
      return clockNow();
    },
    clear: async (app) => {
      const [latest] = await app.ctx.storage.listRejections({ limit: 1 });
      await waitFor(() => (Date.now() > latest!.receivedAt + 1000 ? true : undefined), 5_000, 'a quiet second');
      return clockNow();
    },
  },
];

describe('alerts: each condition raised, deduplicated, kept across a restart and resolved', () => {
  for (const episode of EPISODES) {
    it(`${episode.kind}: one alert and one resolution, though evaluated again before and after the restart`, async () => {
      const zendesk = await remote(episode.zendesk);
      const ops = await remote(200);
      const config = configOf(zendesk, ops, { ...ONLY, ...episode.rules });
      const dataDir = tempDir();
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const options = { env: { DATA_DIR: dataDir }, start: episode.worker ?? true };

      const before = await relay(config, options);
      const raised = await episode.raise(before);
      expect((await evaluate(before, raised.now, raised.watchingSince))!.opened).toMatchObject([{ kind: episode.kind }]);
      expect(await evaluate(before, raised.now, raised.watchingSince)).toEqual({ opened: [], resolved: [] });
      await before.close();
      cleanups.splice(cleanups.indexOf(before.close), 1);

      // A new process: it starts watching now, and finds the alert open in the database.
      const after = await relay(config, options);
      expect(await evaluate(after, raised.now, Date.now())).toEqual({ opened: [], resolved: [] });
      expect((await after.api('GET', '/api/alerts')).json).toMatchObject({ open: [{ kind: episode.kind, status: 'open' }] });
      expect((await notifications(after)).map((d) => d.alertAction)).toEqual(['trigger']);

      const cleared = await episode.clear(after, zendesk);
      // The trigger goes out first (a trigger still waiting at the resolution would be cancelled, and nothing sent).
      await waitFor(async () => ((await notifications(after))[0]!.status === 'succeeded' ? true : undefined), 10_000, 'the alert to reach #ops');
      expect((await evaluate(after, cleared.now, cleared.watchingSince))!.resolved).toMatchObject([{ kind: episode.kind }]);
      expect(await evaluate(after, cleared.now, cleared.watchingSince)).toEqual({ opened: [], resolved: [] });
      await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'the resolution in #ops');
      expect(slackTexts(ops).map((text) => text.split(' ')[1])).toEqual(['*Alert:', '*Resolved:']);
      expect((await after.ctx.storage.listAlerts({ limit: 10 })).map((alert) => [alert.kind, alert.resolvedAt !== null])).toEqual([[episode.kind, true]]);
    });
  }
});

describe('alerts: a failing notify handler', () => {
  it('never raises alerts about itself: its failed and dead notifications are retried like any delivery, and nothing loops', async () => {
    const zendesk = await remote(503);
    const ops = await remote(503);
    const app = await relay({ ...configOf(zendesk, ops, { failures: 2 }), retry: { schedule: ['20ms', '20ms', '20ms'], jitter: 0 } });
    await app.post('transcript', payload('transcript'));
    await app.post('transcript', payload('transcript'));
    await waitFor(async () => ((await app.ctx.storage.deadCount('zendesk')) === 2 ? true : undefined), 10_000, 'zendesk to give up');
    const first = await evaluate(app);
    expect(first!.opened.map((alert) => `${alert.kind}:${alert.subject}`).sort()).toEqual(['dead:zendesk', 'failing:zendesk']);
    // The alerts' own deliveries to ops fail until they are dead too...
    await waitFor(async () => ((await app.ctx.storage.deadCount('ops')) === 2 ? true : undefined), 10_000, 'the notifications to give up');
    expect((await app.ctx.storage.handlerHealth('ops'))!.consecutiveFailures).toBeGreaterThanOrEqual(2);
    // ...and still no alert is about ops, so nothing new is sent through it, however often the evaluation runs.
    for (let n = 0; n < 3; n++) expect(await evaluate(app)).toEqual({ opened: [], resolved: [] });
    expect((await app.ctx.storage.openAlerts()).map((alert) => alert.subject)).toEqual(['zendesk', 'zendesk']);
    expect(await notifications(app)).toHaveLength(2);
    expect(ops.requests).toHaveLength(2 * 4);
  });
});

describe('alerts: the evaluator job', () => {
  it('evaluates at start and on its interval, and stops cleanly', async () => {
    const zendesk = await remote(400);
    const ops = await remote(200);
    const app = await relay(configOf(zendesk, ops));
    await app.settled(await app.post('transcript', payload('transcript')));
    const job = startAlerts(app.ctx, { intervalMs: 50 });
    cleanups.push(job.stop);
    await waitFor(() => (ops.requests.length === 1 ? true : undefined), 10_000, 'the alert from the running job');
    // The notification can reach ops before the evaluation's promise resolves and logs: wait for the line.
    await waitFor(() => (/"component":"alerts".*zendesk: 1 delivery gave up/.test(app.logs()) ? true : undefined), 10_000, 'the alert log line');
    // A later tick, not a call from the test, sees the condition clear and resolves the alert.
    zendesk.answer(200);
    await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=zendesk');
    await waitFor(() => (ops.requests.length === 2 ? true : undefined), 10_000, 'the resolution from a later evaluation');
    expect(slackTexts(ops)[1]).toMatch(/Resolved: zendesk: 1 delivery gave up/);
    await job.stop();
  });

  it('does nothing without an alerts section', async () => {
    const app = await relay({ handlers: [{ name: 'log', type: 'log', events: '*' }] });
    expect(await evaluate(app)).toBeUndefined();
  });
});

describe('alerts: retention', () => {
  it('RETENTION_DAYS deletes the alerts resolved before the window with their notifications, and keeps open ones', async () => {
    const app = await relay(configOf(await remote(400), await remote(200), { failures: false }));
    const now = Date.now();
    await app.settled(await app.post('transcript', payload('transcript')));
    expect((await postWebhook(app.app, 'transcript', readFixture('invalid/messages-not-array.json'))).statusCode).toBe(422);
    expect((await evaluate(app, now))!.opened.map((alert) => alert.kind).sort()).toEqual(['dead', 'rejections']);
    const [resolved] = (await evaluate(app, now + 2 * 60 * MINUTE))!.resolved;
    expect(resolved).toMatchObject({ kind: 'rejections' });

    expect(await purgeExpired(app.ctx, 1, now + 3 * 24 * 60 * MINUTE)).toBeGreaterThanOrEqual(1);
    expect(await app.ctx.storage.getAlert(resolved!.id)).toBeUndefined();
    expect((await notifications(app)).map((d) => [d.alertAction, (d.alertId === resolved!.id)])).toEqual([['trigger', false]]);
    expect((await app.ctx.storage.listAlerts({ limit: 10 })).map((alert) => [alert.kind, alert.resolvedAt])).toEqual([['dead', null]]);
  });
});

describe('GET /api/alerts and the metrics', () => {
  it('lists open and recent alerts behind the API token, and counts open ones by kind', async () => {
    const zendesk = await remote(400);
    const app = await relay(configOf(zendesk, await remote(200), { failures: false }));
    await app.settled(await app.post('transcript', payload('transcript')));
    expect((await postWebhook(app.app, 'transcript', readFixture('invalid/messages-not-array.json'))).statusCode).toBe(422);
    await evaluate(app);
    expect((await evaluate(app, Date.now() + 2 * 60 * MINUTE))!.resolved).toMatchObject([{ kind: 'rejections' }]);

    expect((await app.app.inject({ method: 'GET', url: '/api/alerts' })).statusCode).toBe(401);
    const { status, json } = await app.api('GET', '/api/alerts?limit=1');
    expect(status).toBe(200);
    const body = json as { open: unknown[]; data: Array<{ id: number }>; nextCursor: string | null };
    expect(body.open).toMatchObject([{ kind: 'dead', subject: 'zendesk', status: 'open', resolvedAt: null, summary: expect.any(String), advice: expect.any(String) }]);
    expect(body.data).toMatchObject([{ kind: 'rejections', status: 'resolved', resolvedAt: expect.any(String), lastStatusCode: 422 }]);
    const next = await app.api('GET', `/api/alerts?limit=1&cursor=${body.nextCursor!}`);
    expect(next.json).toMatchObject({ data: [{ kind: 'dead' }], nextCursor: null });
    expect((await app.api('GET', '/api/alerts?cursor=nope!')).status).toBe(400);
    expect((await app.api('GET', '/api/alerts?limit=0')).status).toBe(400);

    const openapi = (await app.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }>();
    expect(openapi.paths['/api/alerts']!.get!.parameters!.map((parameter) => parameter.name).sort()).toEqual(['cursor', 'limit']);

    const metrics = await app.app.inject({ method: 'GET', url: '/metrics', headers: apiHeaders });
    expect(metrics.body).toContain('chatlio_relay_alerts_open{kind="dead"} 1');
    expect(metrics.body).toContain('chatlio_relay_alerts_open{kind="rejections"} 0');
  });
});
