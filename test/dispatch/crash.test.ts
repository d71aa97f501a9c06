// At-least-once across crashes: the real server process, kill -9, restart on the same DATA_DIR.
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN } from '../helpers/app.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { payload, writeConfig } from '../helpers/dispatch.js';

type DeliveryJson = { id: string; status: string; attempts: number; attemptLog: Array<{ outcome: string | null; statusCode: number | null }> };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(env: Record<string, string>): Promise<ServerProcess> {
  const started = await startServer(env);
  cleanups.push(() => stopServer(started, 'SIGKILL'));
  return started;
}

async function post(target: ServerProcess, type: string, body: object): Promise<string> {
  const response = await fetch(`${target.url}/webhooks/chatlio/${type}?token=${WEBHOOK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

async function deliveries(target: ServerProcess, eventId: string): Promise<DeliveryJson[]> {
  const response = await fetch(`${target.url}/api/events/${eventId}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  return ((await response.json()) as { deliveries: DeliveryJson[] }).deliveries;
}

async function sink(respond: Sink['respond']): Promise<Sink> {
  const started = await startSink(respond);
  cleanups.push(() => started.close());
  return started;
}

describe('kill -9 and restart', () => {
  it('delivers, after a restart, every delivery still pending when the process was killed', async () => {
    const remote = await sink(() => ({ status: 503 }));
    const configFile = writeConfig({
      retry: { schedule: Array.from({ length: 20 }, () => '300ms'), jitter: 0 },
      // A short timeout keeps the lease short: an attempt in flight at the kill runs again soon after the restart.
      handlers: [{ name: 'forward', type: 'http', events: '*', timeout: '2s', options: { url: `${remote.url}/in` } }],
    });
    const first = await server({ CONFIG_FILE: configFile });
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await post(first, 'transcript', payload('transcript')));
    for (const id of ids) {
      await waitFor(async () => ((await deliveries(first, id))[0]!.attempts >= 1 ? true : undefined), 10_000, `a first attempt of ${id}`);
    }
    await stopServer(first, 'SIGKILL');

    remote.respond = () => ({ status: 200 });
    const second = await server({ CONFIG_FILE: configFile, DATA_DIR: first.dataDir });
    for (const id of ids) {
      const [delivery] = await waitFor(async () => {
        const rows = await deliveries(second, id);
        return rows[0]?.status === 'succeeded' ? rows : undefined;
      }, 15_000, `${id} to be delivered after the restart`);
      expect(delivery!.attemptLog.at(-1)).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
      expect(delivery!.attemptLog.some((attempt) => attempt.statusCode === 503)).toBe(true);
    }
  });

  it('runs again, after a restart, an attempt that was in flight when the process was killed', async () => {
    const remote = await sink(() => 'hold');
    // The claim of the killed process holds for the handler's timeout plus a margin (3 s + 5 s), then the reaper of the
    // restarted process hands the delivery out again.
    const configFile = writeConfig({ handlers: [{ name: 'forward', type: 'http', events: '*', timeout: '3s', options: { url: `${remote.url}/in` } }] });
    const first = await server({ CONFIG_FILE: configFile });
    const id = await post(first, 'unanswered', payload('unanswered'));
    await waitFor(() => (remote.requests.length === 1 ? true : undefined), 10_000, 'the attempt to reach the remote');
    expect((await deliveries(first, id))[0]!.status).toBe('running');
    await stopServer(first, 'SIGKILL');

    remote.respond = () => ({ status: 200 });
    const second = await server({ CONFIG_FILE: configFile, DATA_DIR: first.dataDir });
    const [delivery] = await waitFor(async () => {
      const rows = await deliveries(second, id);
      return rows[0]?.status === 'succeeded' ? rows : undefined;
    }, 15_000, 'the interrupted delivery to run again');
    expect(delivery!.attemptLog.map((attempt) => attempt.outcome)).toEqual(['interrupted', 'succeeded']);
    expect(remote.requests).toHaveLength(2);
    expect(remote.requests[1]!.body.equals(remote.requests[0]!.body)).toBe(true);
  });

  it('on SIGTERM lets the running attempt finish, exits 0, and leaves queued deliveries pending for the next start', async () => {
    const remote = await sink(() => 'hold');
    const configFile = writeConfig({
      handlers: [{ name: 'forward', type: 'http', events: '*', concurrency: 1, timeout: '60s', options: { url: `${remote.url}/in` } }],
    });
    const first = await server({ CONFIG_FILE: configFile, LOG_LEVEL: 'info' });
    const running = await post(first, 'transcript', payload('transcript'));
    const queued = await post(first, 'transcript', payload('transcript'));
    await waitFor(() => (remote.requests.length === 1 ? true : undefined), 10_000, 'the first attempt to reach the remote');
    const exited = stopServer(first, 'SIGTERM');
    // Answer only once the process has taken the signal, so the worker is already refusing new claims.
    await waitFor(() => (first.output().includes('shutting down') ? true : undefined), 5000, 'the shutdown to begin');
    remote.release();
    expect(await exited).toBe(0);
    expect(remote.requests).toHaveLength(1);

    remote.respond = () => ({ status: 200 });
    const second = await server({ CONFIG_FILE: configFile, DATA_DIR: first.dataDir });
    expect((await deliveries(second, running))[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    await waitFor(async () => ((await deliveries(second, queued))[0]?.status === 'succeeded' ? true : undefined), 10_000, 'the queued delivery');
    expect((await deliveries(second, queued))[0]!.attempts).toBe(1);
  });
});
