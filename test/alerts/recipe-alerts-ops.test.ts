// The "tell #ops when Zendesk keeps failing" recipe, run from examples/alerts-ops.yaml against a local Zendesk and Slack.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDispatchApp, payload, withEnv, writeConfig, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { waitFor } from '../helpers/server.js';
import { startAlerts } from '../../src/alerts/evaluator.js';
import { parseDispatchConfig } from '../../src/dispatch/config.js';
import { runCli } from '../helpers/cli.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

type ExampleConfig = Record<string, unknown>;
const FILE = join(import.meta.dirname, '..', '..', 'examples', 'alerts-ops.yaml');
const example = (): ExampleConfig => parse(readFileSync(FILE, 'utf8')) as ExampleConfig;

const cleanups = cleanupAfterEach();

/** A local Zendesk whose tickets answer `status` until told otherwise, and a local Slack that takes everything. */
async function remotes(status: number) {
  let ticketStatus = status;
  const zendesk = await startSink(() => ({ status: ticketStatus, body: ticketStatus === 201 ? '{"ticket":{"id":42}}' : '{"error":"RecordInvalid","description":"Requester is invalid"}' }));
  const slack = await startSink(() => ({ status: 200, body: 'ok' }));
  cleanups.push(zendesk.close, slack.close);
  return { zendesk, slack, fix: () => (ticketStatus = 201) };
}

async function relay(config: ExampleConfig, zendesk: Sink, slack: Sink): Promise<DispatchApp> {
  const env = { ZENDESK_URL: zendesk.url, ZENDESK_TOKEN: 'zd-secret', SLACK_OPS_WEBHOOK_URL: `${slack.url}/slack/ops` };
  const app = closedAfter(cleanups, await withEnv(env, () => createDispatchApp(config, { env: { PUBLIC_URL: 'https://relay.acme.test' } })));
  cleanups.push(startAlerts(app.ctx, { intervalMs: 50 }).stop);
  return app;
}

const texts = (slack: Sink) => slack.requests.map((request) => (JSON.parse(request.body.toString()) as { text: string }).text);

describe('examples/alerts-ops.yaml: tell #ops when Zendesk keeps failing', () => {
  it('reads as documented: #ops gets alerts only, with the default thresholds and a day of silence', () => {
    const config = parseDispatchConfig(example(), FILE, { ZENDESK_TOKEN: 'z', SLACK_OPS_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' });
    expect(config.alerts).toEqual({ notify: ['ops-slack'], dead: true, failures: 5, overdueMs: 15 * 60_000, silenceMs: 24 * 3_600_000, rejectionsMs: 3_600_000 });
    expect(config.handlers.find((handler) => handler.name === 'ops-slack')!.events).toEqual([]);
  });

  it('posts one alert to #ops after 5 failures in a row, naming Zendesk, the error and where to look, and a resolution once tickets go through', async () => {
    const { zendesk, slack, fix } = await remotes(503);
    // Retries every 30 ms instead of Standard Webhooks' schedule, so five failures take a moment, not hours.
    const app = await relay({ ...example(), retry: { schedule: Array.from({ length: 10 }, () => '30ms'), jitter: 0 } }, zendesk, slack);
    const eventId = await app.post('transcript', payload('transcript'));
    await waitFor(() => (slack.requests.length === 1 ? true : undefined), 10_000, 'the alert in #ops');
    const [alert] = texts(slack);
    // Five at least: retries keep failing every 30 ms while the evaluator takes its turn.
    const failed = /support-zendesk: (\d+) attempts failed in a row/.exec(alert!);
    expect(Number(failed?.[1])).toBeGreaterThanOrEqual(5);
    expect(alert).toContain('*Status code:* 503');
    expect(alert).toContain('RecordInvalid');
    expect(alert).toContain('https://relay.acme.test/api/deliveries?handler=support-zendesk&amp;status=failed');
    // The transcript itself never reached #ops: that handler has no events.
    expect(slack.requests.every((request) => request.url === '/slack/ops')).toBe(true);

    fix();
    await app.settled(eventId);
    await waitFor(() => (slack.requests.length === 2 ? true : undefined), 10_000, 'the resolution in #ops');
    expect(texts(slack)[1]).toMatch(/^:white_check_mark: \*Resolved: support-zendesk: \d+ attempts failed in a row\*/);
    // Once per episode, though the job evaluated every 50 ms while Zendesk kept failing.
    expect(zendesk.requests.length).toBeGreaterThanOrEqual(6);
    expect((await app.ctx.storage.listAlerts({ limit: 10 })).map((alert) => alert.kind)).toEqual(['failing']);
  });

  it('posts when Zendesk refuses a ticket for good, with the redelivery command to run once it is fixed', async () => {
    const { zendesk, slack, fix } = await remotes(422);
    const app = await relay(example(), zendesk, slack);
    const eventId = await app.post('offline-message', payload('offline-message'));
    expect(await app.settled(eventId)).toMatchObject([{ handler: 'support-zendesk', status: 'dead' }]);
    await waitFor(() => (slack.requests.length === 1 ? true : undefined), 10_000, 'the alert in #ops');
    expect(texts(slack)[0]).toContain('support-zendesk: 1 delivery gave up (dead)');
    expect(texts(slack)[0]).toContain('chatlio-relay replay --handler support-zendesk');
    fix();
    expect((await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=support-zendesk')).json).toEqual({ redelivered: 1 });
    await waitFor(() => (slack.requests.length === 2 ? true : undefined), 10_000, 'the resolution in #ops');
    expect(texts(slack)[1]).toContain('Resolved: support-zendesk: 1 delivery gave up (dead)');
  });

  it('check-config shows the alert rules', async () => {
    const file = writeConfig(example());
    const result = await runCli(['check-config', file], { ZENDESK_TOKEN: 'z', SLACK_OPS_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('alerts → ops-slack (watching support-zendesk; notify handlers are never watched)');
    expect(result.stdout).toMatch(/failures +a handler failed 5 times in a row/);
    expect(result.stdout).toMatch(/overdue +a handler's oldest waiting delivery is 15m past due/);
    expect(result.stdout).toMatch(/silence +no webhook for 24h/);
    expect(result.stdout).toMatch(/rejections +a payload was refused \(422\) in the last 1h/);
  });
});
