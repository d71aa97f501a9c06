import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_TOKEN, tempDir } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';

// What `replay` and `export` send and how they treat the answer, checked against a local HTTP server that records
// requests (so error answers can be staged); test/cli/dispatch-commands.test.ts runs both against the real server.
type Recorded = { method: string; url: string; authorization?: string };
let recorded: Recorded[] = [];
let answer: { status: number; type: string; body: string } = { status: 200, type: 'application/json', body: '{}' };
let sink: Server;
let sinkUrl: string;
let dataDir: string;

beforeAll(async () => {
  sink = createServer((request: IncomingMessage, response) => {
    recorded.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    response.writeHead(answer.status, { 'content-type': answer.type });
    response.end(answer.body);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => sink.listen(port, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${port}`;
  dataDir = tempDir('chatlio-relay-api-cli-');
});
afterAll(async () => {
  await new Promise((resolve) => sink.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

const env = () => ({ API_TOKEN, DATA_DIR: dataDir });

describe('chatlio-relay replay', () => {
  it('POSTs /api/deliveries/redeliver?status=dead with the API token and prints the answer', async () => {
    recorded = [];
    answer = { status: 200, type: 'application/json', body: '{"redelivered":3}' };
    const result = await runCli(['replay', '--url', sinkUrl], env());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('{"redelivered":3}\n');
    expect(recorded).toEqual([{ method: 'POST', url: '/api/deliveries/redeliver?status=dead', authorization: `Bearer ${API_TOKEN}` }]);
  });

  it('adds &handler= with --handler, and takes the API token from DATA_DIR/api-token when API_TOKEN is not set', async () => {
    recorded = [];
    const kept = 'api-token-kept-in-data-dir-0123456789';
    writeFileSync(join(dataDir, 'api-token'), `${kept}\n`, { mode: 0o600 });
    const result = await runCli(['replay', '--handler', 'zendesk main', '--url', sinkUrl], { DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(recorded[0]).toEqual({ method: 'POST', url: '/api/deliveries/redeliver?status=dead&handler=zendesk+main', authorization: `Bearer ${kept}` });
    rmSync(join(dataDir, 'api-token'));
  });

  it('exits 1 with the problem detail on one line when the server answers an error', async () => {
    answer = { status: 401, type: 'application/problem+json', body: '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"missing or wrong API token"}' };
    const result = await runCli(['replay', '--url', sinkUrl], env());
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe('chatlio-relay replay: the server answered 401 Unauthorized: missing or wrong API token');
  });

  it('exits 1 with one line when there is no API token at all', async () => {
    const result = await runCli(['replay', '--url', sinkUrl], { DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^chatlio-relay replay: no API token yet: set API_TOKEN/);
  });

});

describe('chatlio-relay export', () => {
  it('GETs /api/events/export with the format and filters and streams the body to stdout unchanged', async () => {
    recorded = [];
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: `evt_${i}`, text: 'é'.repeat(50) })).join('\n') + '\n';
    answer = { status: 200, type: 'application/x-ndjson', body: lines };
    const result = await runCli(['export', '--url', sinkUrl, '--filter', 'type=transcript', '--filter', 'since=2026-01-01'], env());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(lines);
    expect(recorded).toEqual([
      { method: 'GET', url: '/api/events/export?format=ndjson&type=transcript&since=2026-01-01', authorization: `Bearer ${API_TOKEN}` },
    ]);
  });

  it('asks for CSV with --format csv, and exits 2 on one line for another format', async () => {
    recorded = [];
    answer = { status: 200, type: 'text/csv', body: 'id,type\n' };
    expect((await runCli(['export', '--format', 'csv', '--url', sinkUrl], env())).stdout).toBe('id,type\n');
    expect(recorded[0]?.url).toBe('/api/events/export?format=csv');
    const bad = await runCli(['export', '--format', 'xml', '--url', sinkUrl], env());
    expect(bad.code).toBe(2);
    expect(oneLineError(bad)).toBe('chatlio-relay export: --format must be one of ndjson, csv');
  });

  it('exits 2 on one line for a filter that is not name=value', async () => {
    const result = await runCli(['export', '--filter', 'transcript', '--url', sinkUrl], env());
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe('chatlio-relay export: --filter "transcript" is not <name>=<value>');
  });

});
