import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { API_TOKEN, WEBHOOK_TOKEN, createTestApp, postWebhook, readFixture, type TestApp } from './helpers/app.js';
import { parsePrometheusText, sampleValue } from './helpers/prometheus.js';
import { registerDeliveryMetrics } from '../src/metrics.js';

let apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps) await t.close();
  apps = [];
});

async function app(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp(env);
  apps.push(t);
  return t;
}

async function scrape(t: TestApp, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ url: '/metrics', headers });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(response.body);
}

const received = 'chatlio_relay_webhooks_received_total';

describe('GET /metrics', () => {
  it('counts a stored, a duplicate, a rejected, a malformed and an unauthorized webhook by type and outcome', async () => {
    const t = await app();
    const transcript = readFixture('valid/transcript/documented.json');
    expect((await postWebhook(t.app, 'transcript', transcript)).statusCode).toBe(200);
    expect((await postWebhook(t.app, 'transcript', transcript)).json()).toMatchObject({ duplicate: true });
    expect((await postWebhook(t.app, 'offline-message', readFixture('invalid/offline-email-number.json'))).statusCode).toBe(422);
    expect((await postWebhook(t.app, 'feedback', '{"visitor":')).statusCode).toBe(400);
    expect((await postWebhook(t.app, 'feedback', readFixture('valid/feedback/documented.json'), { token: 'wrong-token-0123456789abcdefgh' })).statusCode).toBe(401);

    const metrics = await scrape(t);
    expect(metrics.get(received)?.type).toBe('counter');
    expect(sampleValue(metrics, received, { type: 'transcript', outcome: 'stored' })).toBe(1);
    expect(sampleValue(metrics, received, { type: 'transcript', outcome: 'duplicate' })).toBe(1);
    expect(sampleValue(metrics, received, { type: 'offline-message', outcome: 'rejected' })).toBe(1);
    expect(sampleValue(metrics, received, { type: 'feedback', outcome: 'malformed' })).toBe(1);
    expect(sampleValue(metrics, received, { type: 'feedback', outcome: 'unauthorized' })).toBe(1);
    expect(sampleValue(metrics, received, { type: 'feedback', outcome: 'stored' })).toBeUndefined();
    const counted = metrics.get(received)!.samples.reduce((sum, sample) => sum + sample.value, 0);
    expect(counted).toBe(5);
  });

  it('observes ingest latency for stored and duplicate events only, in a well-formed histogram', async () => {
    const t = await app();
    const body = readFixture('valid/unanswered/documented.json');
    await postWebhook(t.app, 'unanswered', body);
    await postWebhook(t.app, 'unanswered', body);
    await postWebhook(t.app, 'unanswered', 'not json');
    const metrics = await scrape(t);
    expect(metrics.get('chatlio_relay_ingest_duration_seconds')?.type).toBe('histogram');
    expect(sampleValue(metrics, 'chatlio_relay_ingest_duration_seconds_count', { type: 'unanswered' })).toBe(2);
    expect(sampleValue(metrics, 'chatlio_relay_ingest_duration_seconds_bucket', { type: 'unanswered', le: '+Inf' })).toBe(2);
    expect(sampleValue(metrics, 'chatlio_relay_ingest_duration_seconds_sum', { type: 'unanswered' })).toBeGreaterThan(0);
  });

  it('reports the database size on disk, growing as events are stored, and the default process metrics', async () => {
    const t = await app();
    const before = sampleValue(await scrape(t), 'chatlio_relay_database_size_bytes')!;
    expect(before).toBeGreaterThan(0);
    await postWebhook(t.app, 'transcript', readFixture('valid/transcript/large-500-messages.json'));
    const metrics = await scrape(t);
    expect(sampleValue(metrics, 'chatlio_relay_database_size_bytes')).toBeGreaterThan(before);
    expect(metrics.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(metrics.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
  });

  it('keeps each app’s counts in its own registry', async () => {
    const first = await app();
    const second = await app();
    await postWebhook(first.app, 'feedback', readFixture('valid/feedback/documented.json'));
    expect(sampleValue(await scrape(first), received, { type: 'feedback', outcome: 'stored' })).toBe(1);
    expect(sampleValue(await scrape(second), received, { type: 'feedback', outcome: 'stored' })).toBeUndefined();
  });

  it('is open by default and asks for the API token, not the webhook token, when METRICS_REQUIRE_TOKEN=true', async () => {
    const open = await app();
    expect((await open.app.inject({ url: '/metrics' })).statusCode).toBe(200);
    const closed = await app({ METRICS_REQUIRE_TOKEN: 'true' });
    const anonymous = await closed.app.inject({ url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    const withWebhookToken = await closed.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` } });
    expect(withWebhookToken.statusCode).toBe(401);
    await scrape(closed, { authorization: `Bearer ${API_TOKEN}` });
  });
});

describe('registerDeliveryMetrics', () => {
  it('exposes the delivery gauges from the stats it reads at scrape time, and counts attempts', async () => {
    const registry = new Registry();
    let pending = 3;
    const deliveries = registerDeliveryMetrics(registry, () => ({
      byHandlerAndStatus: [
        { handler: 'zendesk', status: 'pending', count: pending },
        { handler: 'slack', status: 'dead', count: 1 },
      ],
      pending,
      dead: 1,
      oldestPendingAgeSeconds: 42,
    }));
    deliveries.attemptFinished('zendesk', 'failed');
    let metrics = parsePrometheusText(await registry.metrics());
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'zendesk', status: 'pending' })).toBe(3);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'slack', status: 'dead' })).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries_pending')).toBe(3);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries_dead')).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_oldest_pending_delivery_age_seconds')).toBe(42);
    expect(sampleValue(metrics, 'chatlio_relay_delivery_attempts_total', { handler: 'zendesk', outcome: 'failed' })).toBe(1);
    pending = 0;
    metrics = parsePrometheusText(await registry.metrics());
    expect(sampleValue(metrics, 'chatlio_relay_deliveries_pending')).toBe(0);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'zendesk', status: 'pending' })).toBe(0);
  });
});

describe('the exposition parser used here', () => {
  it('rejects a sample without a TYPE line, a bad label escape and a histogram whose +Inf bucket disagrees with _count', () => {
    expect(() => parsePrometheusText('foo 1\n')).toThrow(/no # TYPE/);
    expect(() => parsePrometheusText('# TYPE foo gauge\nfoo{a="\\x"} 1\n')).toThrow(/bad escape/);
    expect(() =>
      parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'),
    ).toThrow(/\+Inf bucket/);
  });
});
