import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, manifest, readFixture } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { writeConfig } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess | undefined;
let sink: Sink | undefined;
afterEach(async () => {
  if (server) await stopServer(server);
  await sink?.close();
  server = undefined;
  sink = undefined;
});

const api = (path: string) => fetch(`${server!.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });

describe('chatlio-relay replay', () => {
  it('puts the dead deliveries of a real server back to pending, and they get delivered', async () => {
    let accepting = false;
    sink = await startSink(() => ({ status: accepting ? 200 : 400 }));
    const configFile = writeConfig({ handlers: [{ name: 'forward', type: 'http', events: '*', options: { url: sink.url } }] });
    server = await startServer({ CONFIG_FILE: configFile });
    const posted = await fetch(`${server.url}/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(readFixture('valid/transcript/documented.json')),
    });
    expect(posted.status).toBe(200);
    // A 400 from the remote is permanent: the delivery is dead after one attempt.
    await waitFor(async () => {
      const list = (await (await api('/api/deliveries?status=dead')).json()) as { data: unknown[] };
      return list.data.length === 1 ? true : undefined;
    }, 10_000, 'a dead delivery');

    accepting = true;
    const result = await runCli(['replay', '--url', server.url], { API_TOKEN });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ redelivered: 1 });
    await waitFor(async () => {
      const list = (await (await api('/api/deliveries?status=succeeded')).json()) as { data: unknown[] };
      return list.data.length === 1 ? true : undefined;
    }, 10_000, 'the redelivered delivery to succeed');
    expect(sink.requests).toHaveLength(2);
    expect(sink.requests[1]!.body.equals(readFixture('valid/transcript/documented.json'))).toBe(true);
  });
});

describe('chatlio-relay check-config', () => {
  it('prints, for each event type, the handlers a valid CONFIG_FILE would run', async () => {
    const configFile = writeConfig({
      handlers: [
        { name: 'all-logged', type: 'log', events: '*' },
        { name: 'sms-late', type: 'twilio', events: ['unanswered'], delay: '5m', unlessFollowedBy: ['transcript'], options: { accountSid: 'AC1', authToken: '${TWILIO_TOKEN}', from: '+15550001111', to: '+15550002222' } },
      ],
    });
    const result = await runCli(['check-config'], { CONFIG_FILE: configFile, TWILIO_TOKEN: 'secret-from-env' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('2 handler(s)');
    expect(result.stdout).toMatch(/unanswered\s+→ all-logged \(log\), sms-late \(twilio, after 300s\)/);
    expect(result.stdout).toMatch(/transcript\s+→ all-logged \(log\)\n/);
    expect(result.stdout).not.toContain('secret-from-env');
  });

  it('exits 1 with the problem on one line, naming the field, for an invalid config file', async () => {
    const configFile = writeConfig({ handlers: [{ name: 'x', type: 'pager', events: ['transcript'] }] });
    const result = await runCli(['check-config', configFile]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^chatlio-relay check-config: .*handlers\[0\]\.type/);
  });

  it('exits 2 when no file is given or set', async () => {
    const result = await runCli(['check-config']);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe('chatlio-relay check-config: no configuration file: pass one or set CONFIG_FILE');
  });
});

describe('chatlio-relay export', () => {
  it('streams the same bytes as GET /api/events/export from a real server holding the fixtures, NDJSON and CSV', async () => {
    server = await startServer();
    const accepted = manifest().filter((entry) => entry.expect === 200);
    for (const entry of accepted) {
      const response = await fetch(`${server.url}/webhooks/chatlio/${entry.type}?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(readFixture(entry.file)),
      });
      expect(response.status, entry.file).toBe(200);
    }
    for (const format of ['ndjson', 'csv']) {
      const cli = await runCli(['export', '--format', format, '--filter', 'type=transcript', '--url', server.url], { API_TOKEN });
      expect(cli.code, cli.stderr).toBe(0);
      const api = await (await fetch(`${server.url}/api/events/export?format=${format}&type=transcript`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
      expect(cli.stdout).toBe(api);
      const transcripts = accepted.filter((entry) => entry.type === 'transcript').length;
      const rows = cli.stdout.trimEnd().split('\n').length;
      if (format === 'ndjson') expect(rows).toBe(transcripts);
      else expect(rows).toBeGreaterThan(transcripts); // a header line, and quoted cells may hold newlines
    }
  });
});
