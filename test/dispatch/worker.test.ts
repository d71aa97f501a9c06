import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { waitFor } from '../helpers/server.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const sink = async (respond?: Sink['respond']): Promise<Sink> => closedAfter(cleanups, await startSink(respond));
async function relay(handlers: unknown[], extra: Record<string, unknown> = {}): Promise<DispatchApp> {
  const app = await createDispatchApp({ retry: { schedule: ['50ms', '50ms', '50ms'], jitter: 0 }, ...extra, handlers });
  cleanups.push(app.close);
  return app;
}

const httpTo = (url: string, more: Record<string, unknown> = {}) => ({ name: 'forward', type: 'http', events: '*', ...more, options: { url } });

describe('routing', () => {
  it('creates deliveries only for handlers whose events list names the type', async () => {
    const remote = await sink();
    const app = await relay([httpTo(remote.url, { name: 'transcripts', events: ['transcript'] }), httpTo(remote.url, { name: 'all' })]);
    const transcript = await app.post('transcript', payload('transcript'));
    const offline = await app.post('offline-message', payload('offline-message'));
    expect((await app.deliveries(transcript)).map((d) => d.handler).sort()).toEqual(['all', 'transcripts']);
    expect((await app.deliveries(offline)).map((d) => d.handler)).toEqual(['all']);
    await app.settled(transcript);
    await app.settled(offline);
    expect(remote.requests).toHaveLength(3);
  });

  it('creates a delivery only when every `when` condition holds', async () => {
    const remote = await sink();
    const app = await relay([
      httpTo(remote.url, { name: 'thumbs-down', events: ['feedback'], when: { chatRating: 'down' } }),
      httpTo(remote.url, { name: 'urgent', events: ['transcript'], when: { extraData: { contains: 'urgent' }, 'visitor.currentPage': { startsWith: 'http://chatlio.com' } } }),
    ]);
    const down = await app.post('feedback', payload('feedback', {}, 'rating-fields'));
    const up = await app.post('feedback', payload('feedback', { chatRating: 'up' }, 'rating-fields'));
    const urgent = await app.post('transcript', payload('transcript', { extraData: ['urgent', 'billing'] }));
    const routine = await app.post('transcript', payload('transcript', { extraData: ['routine'] }));
    expect((await app.deliveries(down)).map((d) => d.handler)).toEqual(['thumbs-down']);
    expect(await app.deliveries(up)).toEqual([]);
    expect((await app.deliveries(urgent)).map((d) => d.handler)).toEqual(['urgent']);
    expect(await app.deliveries(routine)).toEqual([]);
  });

  it('does not create deliveries again when the same bytes arrive twice', async () => {
    const remote = await sink();
    const app = await relay([httpTo(remote.url)]);
    const body = JSON.stringify(payload('transcript'));
    const first = await app.post('transcript', body);
    const second = await app.post('transcript', body);
    expect(second).toBe(first);
    expect(await app.deliveries(first)).toHaveLength(1);
  });
});

describe('delivery outcomes', () => {
  it('delivers the stored bytes unchanged and records a succeeded attempt with its status code', async () => {
    const remote = await sink(() => ({ status: 204 }));
    const app = await relay([httpTo(remote.url)]);
    const body = JSON.stringify(payload('transcript'), null, 3);
    const id = await app.post('transcript', body);
    const [delivery] = await app.settled(id);
    expect(delivery!.status).toBe('succeeded');
    expect(remote.requests[0]!.body.toString()).toBe(body);
    expect(remote.requests[0]!.headers['content-type']).toBe('application/json');
    const event = await app.api('GET', `/api/events/${id}`);
    const deliveries = (event.json as { deliveries: Array<{ status: string; attempts: number; attemptLog: Array<{ outcome: string; statusCode: number }> }> }).deliveries;
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.attempts).toBe(1);
    expect(deliveries[0]!.attemptLog).toMatchObject([{ outcome: 'succeeded', statusCode: 204 }]);
  });

  it('retries after a 5xx answer and succeeds on a later attempt', async () => {
    const remote = await sink((_request, index) => (index < 2 ? { status: 503, body: '{"error":"busy"}' } : { status: 200 }));
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, lastError: null });
    expect((await app.ctx.storage.attempts(delivery!.seq)).map((a) => [a.outcome, a.statusCode])).toEqual([
      ['failed', 503],
      ['failed', 503],
      ['succeeded', 200],
    ]);
    expect((await app.ctx.storage.attempts(delivery!.seq))[0]!.error).toContain('HTTP 503');
  });

  it('marks a delivery dead at once on a 4xx answer other than 408/409/425/429', async () => {
    const remote = await sink(() => ({ status: 400, body: '{"error":"bad"}' }));
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1, lastStatusCode: 400, dueAt: null });
    expect(remote.requests).toHaveLength(1);
  });

  it('gives up (dead) once the retry schedule is used up', async () => {
    const remote = await sink(() => ({ status: 500 }));
    const app = await relay([httpTo(remote.url)], { retry: { schedule: ['20ms', '20ms'], jitter: 0 } });
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3, lastStatusCode: 500 });
  });

  it('waits at least as long as Retry-After asks before the next attempt', async () => {
    const remote = await sink((_request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    const failed = await waitFor(async () => (await app.deliveries(id)).find((d) => d.status === 'failed'), 5000, 'the 429 to be recorded');
    const [first] = await app.ctx.storage.attempts(failed.seq);
    expect(first).toMatchObject({ outcome: 'failed', statusCode: 429 });
    expect(failed.dueAt! - first!.startedAt).toBeGreaterThanOrEqual(1000);
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('fails an attempt that outlives the handler timeout and retries it', async () => {
    const remote = await sink((_request, index) => (index === 0 ? 'hold' : { status: 200 }));
    const app = await relay([httpTo(remote.url, { timeout: '200ms' })]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    const [first] = await app.ctx.storage.attempts(delivery!.seq);
    expect(first).toMatchObject({ outcome: 'failed', error: 'timed out after 200 ms', statusCode: null });
  });

  it('runs at most `concurrency` attempts of a handler at once', async () => {
    const remote = await sink(() => 'hold');
    const app = await relay([httpTo(remote.url, { concurrency: 2, timeout: '30s' })]);
    const ids = [];
    for (let index = 0; index < 4; index += 1) ids.push(await app.post('transcript', payload('transcript')));
    await waitFor(() => (remote.requests.length === 2 ? true : undefined), 5000, 'two held requests');
    expect(app.worker.active()).toBe(2);
    const statuses = (await Promise.all(ids.map(app.deliveries))).flat().map((d) => d.status).sort();
    expect(statuses).toEqual(['pending', 'pending', 'running', 'running']);
    remote.respond = () => ({ status: 200 });
    remote.release();
    for (const id of ids) await app.settled(id);
    expect(remote.requests).toHaveLength(4);
  });
});

describe('redelivery', () => {
  it('puts a dead delivery back to pending on POST /api/events/:id/redeliver, keeping its attempts', async () => {
    const remote = await sink(() => ({ status: 410 }));
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    await app.settled(id, ['dead']);
    remote.respond = () => ({ status: 200 });
    const response = await app.api('POST', `/api/events/${id}/redeliver`);
    expect(response.status).toBe(200);
    const [delivery] = await app.settled(id, ['succeeded']);
    expect(delivery!.attempts).toBe(2);
    expect((await app.ctx.storage.attempts(delivery!.seq)).map((a) => a.statusCode)).toEqual([410, 200]);
  });

  it('gives a manual redelivery one attempt: if it fails it is dead again, not rescheduled', async () => {
    const remote = await sink(() => ({ status: 503 }));
    const app = await relay([httpTo(remote.url)], { retry: { schedule: [], jitter: 0 } });
    const id = await app.post('transcript', payload('transcript'));
    await app.settled(id, ['dead']);
    await app.api('POST', `/api/events/${id}/redeliver?handler=forward`);
    await waitFor(async () => ((await app.deliveries(id))[0]!.attempts === 2 && (await app.deliveries(id))[0]!.status === 'dead' ? true : undefined));
    expect(remote.requests).toHaveLength(2);
  });

  it('redelivers every dead delivery of a handler in bulk', async () => {
    const remote = await sink(() => ({ status: 400 }));
    const app = await relay([httpTo(remote.url)]);
    const ids = [await app.post('transcript', payload('transcript')), await app.post('feedback', payload('feedback'))];
    for (const id of ids) await app.settled(id, ['dead']);
    remote.respond = () => ({ status: 200 });
    const response = await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=forward');
    expect(response.json).toEqual({ redelivered: 2 });
    for (const id of ids) await app.settled(id, ['succeeded']);
  });

  it('redelivers in bulk only the deliveries of events received between since and until', async () => {
    const remote = await sink(() => ({ status: 400 }));
    const app = await relay([httpTo(remote.url)]);
    const ids = [await app.post('transcript', payload('transcript')), await app.post('feedback', payload('feedback'))];
    for (const id of ids) await app.settled(id, ['dead']);
    const hour = (offset: number) => encodeURIComponent(new Date(Date.now() + offset * 3_600_000).toISOString());
    expect((await app.api('POST', `/api/deliveries/redeliver?since=${hour(1)}`)).json).toEqual({ redelivered: 0 });
    expect((await app.api('POST', `/api/deliveries/redeliver?until=${hour(-1)}`)).json).toEqual({ redelivered: 0 });
    remote.respond = () => ({ status: 200 });
    expect((await app.api('POST', `/api/deliveries/redeliver?since=${hour(-1)}&until=${hour(1)}`)).json).toEqual({ redelivered: 2 });
    for (const id of ids) await app.settled(id, ['succeeded']);
  });

  it('answers 400 for a bulk redelivery whose since is not a date or not before until', async () => {
    const app = await relay([httpTo('http://127.0.0.1:9/unused')]);
    const bad = await app.api('POST', '/api/deliveries/redeliver?since=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('since');
    const backwards = await app.api('POST', '/api/deliveries/redeliver?since=2026-11-02&until=2026-11-01');
    expect(backwards.status).toBe(400);
    expect(JSON.stringify(backwards.json)).toContain('must be before until');
  });

  it('answers 404 naming the handler when ?handler= is not configured', async () => {
    const remote = await sink();
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    const response = await app.api('POST', `/api/events/${id}/redeliver?handler=nope`);
    expect(response.status).toBe(404);
    expect(JSON.stringify(response.json)).toContain('nope');
  });
});

describe('escalation', () => {
  const escalation = (url: string, delay: string) =>
    httpTo(url, { name: 'manager', events: ['unanswered'], delay, unlessFollowedBy: ['transcript', 'feedback'] });

  it('delivers a delayed escalation once it is due when nothing follows it', async () => {
    const remote = await sink();
    const app = await relay([escalation(remote.url, '300ms')]);
    const id = await app.post('unanswered', payload('unanswered'));
    const [planned] = await app.deliveries(id);
    expect(planned!.status).toBe('pending');
    // Due the delay after the event arrived (createdAt is the commit's time, which may be a little later).
    const event = (await app.ctx.storage.getEvent(app.ctx.storage.parseEventId(id)!))!;
    expect(planned!.dueAt! - event.receivedAt).toBe(300);
    const [delivery] = await app.settled(id);
    expect(delivery!.status).toBe('succeeded');
    expect(remote.requests).toHaveLength(1);
  });

  it('cancels a waiting escalation when a transcript of the same conversation arrives first, recording which event', async () => {
    const remote = await sink();
    const app = await relay([escalation(remote.url, '1h')]);
    const unanswered = payload('unanswered');
    const id = await app.post('unanswered', unanswered);
    const other = await app.post('unanswered', payload('unanswered'));
    const transcript = await app.post('transcript', payload('transcript', { conversationUUID: unanswered.conversationUUID }));
    const [cancelled] = await app.deliveries(id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: transcript, dueAt: null });
    expect((await app.deliveries(other))[0]!.status).toBe('pending');
    const listed = await app.api('GET', '/api/deliveries?status=cancelled');
    expect(listed.json).toMatchObject({ data: [{ id: cancelled!.id, eventId: id, cancelledBy: transcript }] });
    expect(remote.requests).toHaveLength(0);
  });
});

describe('GET /api/deliveries', () => {
  it('filters by status and handler and pages with an opaque cursor', async () => {
    const remote = await sink((request) => (request.body.includes('"feedback"') ? { status: 400 } : { status: 200 }));
    const app = await relay([httpTo(remote.url, { name: 'a' }), httpTo(remote.url, { name: 'b', events: ['transcript'] })]);
    const ids = [];
    for (let index = 0; index < 3; index += 1) ids.push(await app.post('transcript', payload('transcript')));
    for (const id of ids) await app.settled(id);
    const first = (await app.api('GET', '/api/deliveries?handler=a&limit=2')).json as { data: Array<{ id: string; handler: string }>; nextCursor: string };
    expect(first.data).toHaveLength(2);
    expect(first.data.every((d) => d.handler === 'a')).toBe(true);
    const second = (await app.api('GET', `/api/deliveries?handler=a&limit=2&cursor=${first.nextCursor}`)).json as { data: Array<{ id: string }>; nextCursor: null };
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.data, ...second.data].map((d) => d.id)).size).toBe(3);
    const succeeded = (await app.api('GET', '/api/deliveries?status=succeeded')).json as { data: unknown[] };
    expect(succeeded.data).toHaveLength(6);
    expect((await app.api('GET', '/api/deliveries?status=dead')).json).toMatchObject({ data: [], nextCursor: null });
  });

  it('shows one delivery with its attempts, answers 404 for an unknown id and 401 without the API token', async () => {
    const remote = await sink();
    const app = await relay([httpTo(remote.url)]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    const one = await app.api('GET', `/api/deliveries/${delivery!.id}`);
    expect(one.json).toMatchObject({ id: delivery!.id, eventId: id, handler: 'forward', status: 'succeeded', attemptLog: [{ attempt: 1, outcome: 'succeeded' }] });
    expect((await app.api('GET', '/api/deliveries/dlv_zzzzzzzzzz')).status).toBe(404);
    expect((await app.app.inject({ method: 'GET', url: '/api/deliveries' })).statusCode).toBe(401);
    expect((await app.app.inject({ method: 'POST', url: '/api/deliveries/redeliver' })).statusCode).toBe(401);
  });

  it('answers 400 naming the parameter for an unknown status', async () => {
    const app = await relay([]);
    const response = await app.api('GET', '/api/deliveries?status=lost');
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json)).toContain('status');
  });
});

describe('leases', () => {
  // The reaper is called with a clock an hour ahead: a `now` passed to the storage is the leases' clock on both backends.
  it('records nothing for an attempt that finishes after its lease was reaped, and the delivery runs again', async () => {
    const remote = await sink(() => 'hold');
    const app = await relay([httpTo(remote.url, { concurrency: 1, timeout: '30s' })]);
    const id = await app.post('transcript', payload('transcript'));
    await waitFor(() => (remote.requests.length === 1 ? true : undefined));
    // As the reaper of another process would once the lease ran out (its worker presumed dead); the reaped delivery
    // is due at the reaper's clock, an hour ahead here, so it is redelivered to make it due now.
    expect(await app.ctx.storage.reapExpiredLeases(Date.now() + 3_600_000)).toBe(1);
    expect((await app.api('POST', `/api/events/${id}/redeliver`)).status).toBe(200);
    remote.respond = () => ({ status: 200 });
    remote.release();
    const [delivery] = await app.settled(id, ['succeeded']);
    expect(await app.ctx.storage.attempts(delivery!.seq)).toMatchObject([{ outcome: 'interrupted' }, { outcome: 'succeeded', statusCode: 200 }]);
    expect(remote.requests).toHaveLength(2);
    expect(app.logs()).toContain('its outcome is not recorded');
  });
});

describe('stopping', () => {
  it('lets a running attempt finish within the grace period and leaves the rest pending', async () => {
    const remote = await sink(() => 'hold');
    const app = await relay([httpTo(remote.url, { concurrency: 1, timeout: '30s' })]);
    const first = await app.post('transcript', payload('transcript'));
    const second = await app.post('transcript', payload('transcript'));
    await waitFor(() => (remote.requests.length === 1 ? true : undefined));
    const stopped = app.worker.stop(5000);
    remote.release();
    await stopped;
    expect((await app.deliveries(first))[0]!.status).toBe('succeeded');
    expect((await app.deliveries(second))[0]!.status).toBe('pending');
    expect(remote.requests).toHaveLength(1);
  });

  it('aborts attempts still running after the grace period and leaves them pending', async () => {
    const remote = await sink(() => 'hold');
    const app = await relay([httpTo(remote.url, { timeout: '30s' })]);
    const id = await app.post('transcript', payload('transcript'));
    await waitFor(() => (remote.requests.length === 1 ? true : undefined));
    await app.worker.stop(100);
    const [delivery] = await app.deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await app.ctx.storage.attempts(delivery!.seq))[0]!.outcome).toBe('interrupted');
  });
});
