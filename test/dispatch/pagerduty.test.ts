import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp, QUICK_RETRY } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { pagerdutyAnswer } from '../helpers/pagerduty.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';

const pagerduty = async (respond: Sink['respond'] = pagerdutyAnswer): Promise<Sink> => closedAfter(cleanups, await startSink(respond));

const relay = async (handlers: unknown[]): Promise<DispatchApp> => closedAfter(cleanups, await createDispatchApp({ retry: QUICK_RETRY, handlers }));

const bodies = (remote: Sink) => remote.requests.map((request) => JSON.parse(request.body.toString()) as Record<string, unknown>);

describe('pagerduty handler', () => {
  it('triggers with the documented body keyed by conversation, and a later resolve names the same key', async () => {
    const remote = await pagerduty();
    const app = await relay([
      { name: 'page', type: 'pagerduty', events: ['unanswered'], options: { routingKey: ROUTING_KEY, baseUrl: remote.url, severity: 'critical' } },
      { name: 'unpage', type: 'pagerduty', events: ['transcript'], options: { routingKey: ROUTING_KEY, baseUrl: remote.url, action: 'resolve' } },
    ]);
    const unanswered = payload('unanswered');
    const [triggered] = await app.settled(await app.post('unanswered', unanswered));
    const [resolved] = await app.settled(await app.post('transcript', payload('transcript', { conversationUUID: unanswered.conversationUUID })));
    const key = `chatlio-${String(unanswered.conversationUUID)}`;
    expect(triggered).toMatchObject({ status: 'succeeded', lastStatusCode: 202, externalId: key });
    expect(resolved).toMatchObject({ status: 'succeeded', lastStatusCode: 202, externalId: key });
    const [trigger, resolve] = bodies(remote);
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: key,
      payload: {
        summary: 'Nobody has answered united-states-27 on http://yoursite.com/signup yet: Hi, I am having trouble signing up',
        source: 'chatlio-relay',
        severity: 'critical',
        class: 'unanswered',
        custom_details: { visitor: 'united-states-27', page: 'http://yoursite.com/signup', message: 'Hi, I am having trouble signing up' },
      },
    });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key });
  });

  it('retries a 429 and makes a 400 dead at once', async () => {
    const limited = await pagerduty((request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '0' } } : pagerdutyAnswer(request)));
    const app = await relay([{ name: 'page', type: 'pagerduty', events: ['unanswered'], options: { routingKey: ROUTING_KEY, baseUrl: limited.url } }]);
    const [retried] = await app.settled(await app.post('unanswered', payload('unanswered')));
    expect(retried).toMatchObject({ status: 'succeeded', attempts: 2 });

    const refusing = await pagerduty(() => ({ status: 400, body: '{"status":"invalid event","message":"Event object is invalid"}' }));
    const other = await relay([{ name: 'page', type: 'pagerduty', events: ['unanswered'], options: { routingKey: ROUTING_KEY, baseUrl: refusing.url } }]);
    const [dead] = await other.settled(await other.post('unanswered', payload('unanswered')));
    expect(dead).toMatchObject({ status: 'dead', attempts: 1, lastStatusCode: 400 });
  });

  it('gives a trigger without a conversation a key of its own, and refuses to resolve one without calling PagerDuty', async () => {
    const remote = await pagerduty();
    const app = await relay([
      { name: 'page', type: 'pagerduty', events: ['offline-message'], options: { routingKey: ROUTING_KEY, baseUrl: remote.url } },
      { name: 'unpage', type: 'pagerduty', events: ['offline-message'], options: { routingKey: ROUTING_KEY, baseUrl: remote.url, action: 'resolve' } },
    ]);
    const id = await app.post('offline-message', payload('offline-message'));
    const deliveries = await app.settled(id);
    expect(deliveries.find((d) => d.handler === 'page')).toMatchObject({ status: 'succeeded', externalId: `chatlio-event-${id}` });
    expect(deliveries.find((d) => d.handler === 'unpage')).toMatchObject({ status: 'dead', attempts: 1 });
    expect(deliveries.find((d) => d.handler === 'unpage')!.lastError).toContain('no conversationUUID');
    expect(bodies(remote).map((body) => body.event_action)).toEqual(['trigger']);
  });
});

describe('defect 1 in PagerDuty: a long summary is cut on whole characters', () => {
  // One of each parity, so a cut after any number of UTF-16 units lands inside an emoji of one of them.
  it.each([['😀'.repeat(700)], [`a${'😀'.repeat(700)}`]])('never ends the summary in half an emoji, and keeps it within 1,024 characters', async (message) => {
    const remote = await pagerduty();
    const app = await relay([{ name: 'page', type: 'pagerduty', events: ['unanswered'], options: { routingKey: ROUTING_KEY, baseUrl: remote.url, summary: '{{message}}' } }]);
    const [delivery] = await app.settled(await app.post('unanswered', payload('unanswered', { message })));
    expect(delivery).toMatchObject({ status: 'succeeded' });
    const summary = (bodies(remote)[0]!.payload as { summary: string }).summary;
    expect(summary).not.toMatch(/\p{Cs}/u);
    expect(summary).toMatch(/😀…$/);
    expect(summary.length).toBeLessThanOrEqual(1024);
  });
});
