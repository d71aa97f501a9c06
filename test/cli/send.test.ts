import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { API_TOKEN, WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { freePort, startServer, stopServer, type ServerProcess } from '../helpers/server.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus.js';

let server: ServerProcess;
let scratch: string;
beforeAll(async () => {
  server = await startServer();
  scratch = tempDir('chatlio-relay-send-');
});
afterAll(async () => {
  if (server) await stopServer(server);
  rmSync(scratch, { recursive: true, force: true });
});

// What the CLI needs to find the server: the same variables the server reads.
const env = () => ({ WEBHOOK_TOKEN, API_TOKEN, HOST: '127.0.0.1', PORT: String(server.port), DATA_DIR: server.dataDir });

async function storedEvent(id: string): Promise<Buffer> {
  const response = await fetch(`${server.url}/api/events/${id}/raw`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('chatlio-relay send', () => {
  it('posts the documented sample to HOST:PORT from the environment, prints the answer, and the server stores it byte for byte', async () => {
    const result = await runCli(['send', 'offline-message'], env());
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { id: string; type: string; duplicate: boolean };
    expect(answer).toMatchObject({ type: 'offline-message', duplicate: false });
    expect((await storedEvent(answer.id)).equals(readFixture('valid/offline-message/documented.json'))).toBe(true);
  });

  it('posts a file given as the second argument to --url, and reports a duplicate the second time', async () => {
    const file = join(scratch, 'mine.json');
    writeFileSync(file, JSON.stringify({ conversationUUID: 'send-cli-file-1', messages: [] }));
    const args = ['send', 'transcript', file, '--url', server.url];
    const first = await runCli(args, { ...env(), PORT: String(await freePort()) });
    expect(first.code).toBe(0);
    const second = await runCli(args, { ...env(), PORT: String(await freePort()) });
    expect(JSON.parse(second.stdout)).toMatchObject({ id: (JSON.parse(first.stdout) as { id: string }).id, duplicate: true });
  });

  it('sends another shipped sample with --fixture', async () => {
    const result = await runCli(['send', 'feedback', '--fixture', 'unicode'], env());
    expect(result.code).toBe(0);
    const { id } = JSON.parse(result.stdout) as { id: string };
    expect((await storedEvent(id)).equals(readFixture('valid/feedback/unicode.json'))).toBe(true);
  });

  it('exits 1 with the server’s 422 and the failing field on one line when the payload is invalid', async () => {
    const result = await runCli(['send', 'feedback', join(import.meta.dirname, '../../fixtures/invalid/visitor-uuid-object.json')], env());
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^chatlio-relay send: the server answered 422 Unprocessable Entity: .*\(visitor\.UUID: /);
  });

  it('exits 1 with the server’s 401 on one line when the token is wrong', async () => {
    const result = await runCli(['send', 'feedback'], { ...env(), WEBHOOK_TOKEN: 'not-the-servers-token-0123456789' });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe('chatlio-relay send: the server answered 401 Unauthorized: missing or wrong webhook token');
  });

  it('exits 2 with one line listing the types when the type is unknown, posting nothing', async () => {
    const result = await runCli(['send', 'transcripts'], env());
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe(
      'chatlio-relay send: unknown event type "transcripts" (expected one of: transcript, offline-message, conversation-started, unanswered, feedback)',
    );
  });

  it('exits 1 with one line naming the address when no server listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['send', 'unanswered', '--url', url], env());
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(`chatlio-relay send: cannot reach ${url}: ECONNREFUSED`);
  });

  it('exits 1 with one line when the file does not exist', async () => {
    const result = await runCli(['send', 'transcript', join(scratch, 'missing.json')], env());
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^chatlio-relay send: cannot read .*missing\.json: ENOENT$/);
  });

  it('shows up in the real server’s /metrics, scraped and parsed', async () => {
    const before = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const stored = sampleValue(before, 'chatlio_relay_webhooks_received_total', { type: 'conversation-started', outcome: 'stored' }) ?? 0;
    expect((await runCli(['send', 'conversation-started', '--fixture', 'nulls'], env())).code).toBe(0);
    const after = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    expect(sampleValue(after, 'chatlio_relay_webhooks_received_total', { type: 'conversation-started', outcome: 'stored' })).toBe(stored + 1);
    expect(sampleValue(after, 'chatlio_relay_webhooks_received_total', { type: 'feedback', outcome: 'unauthorized' })).toBeGreaterThanOrEqual(1);
  });
});
