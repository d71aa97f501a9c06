// The real server process evaluates alerts next to retention: at start, from the state the last run left in the database.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { API_TOKEN, WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { writeConfig } from '../helpers/dispatch.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(env: Record<string, string>): Promise<ServerProcess> {
  const started = await startServer(env);
  cleanups.push(() => stopServer(started));
  return started;
}

describe('alerts in the real server', () => {
  it('alerts #ops at start about dead deliveries left by the previous run, once, and says so in GET /api/alerts', async () => {
    const zendesk: Sink = await startSink(() => ({ status: 422, body: '{"error":"RecordInvalid"}' }));
    const ops: Sink = await startSink(() => ({ status: 200, body: 'ok' }));
    cleanups.push(zendesk.close, ops.close);
    const dataDir = tempDir('chatlio-relay-e2e-alerts-');
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      DATA_DIR: dataDir,
      CONFIG_FILE: writeConfig({
        handlers: [
          { name: 'support-zendesk', type: 'http', events: '*', options: { url: `${zendesk.url}/tickets` } },
          { name: 'ops-slack', type: 'slack', options: { webhookUrl: `${ops.url}/slack/ops` } },
        ],
        alerts: { notify: ['ops-slack'] },
      }),
    };

    const first = await server(env);
    const posted = await fetch(`${first.url}/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFixture('valid/transcript/documented.json').toString() });
    expect(posted.status).toBe(200);
    await waitFor(() => (zendesk.requests.length === 1 ? true : undefined), 10_000, 'the refused ticket');
    expect(await stopServer(first)).toBe(0);
    // The first run may or may not have evaluated after the delivery went dead; the second evaluates at start.
    const sentBefore = ops.requests.length;

    const second = await server(env);
    await waitFor(() => (ops.requests.length === 1 ? true : undefined), 10_000, 'the alert in #ops');
    expect(sentBefore).toBeLessThanOrEqual(1);
    expect(JSON.parse(ops.requests[0]!.body.toString()).text).toContain('support-zendesk: 1 delivery gave up (dead)');
    const alerts = await fetch(`${second.url}/api/alerts`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(await alerts.json()).toMatchObject({ open: [{ kind: 'dead', subject: 'support-zendesk', lastStatusCode: 422 }] });
    expect(await stopServer(second)).toBe(0);
    expect(ops.requests).toHaveLength(1);
  });
});
