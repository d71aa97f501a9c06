// Three real server processes on one PostgreSQL database: webhooks spread across them, the same body sent to two at
// once, one replica killed with SIGKILL mid-burst while senders retry elsewhere. Nothing lost, nothing done twice at once.
import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN } from '../helpers/app.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';
import { payload, writeConfig } from '../helpers/dispatch.js';
import { freshDatabase } from '../helpers/postgres.js';

const REPLICAS = 3;
const EVENTS = 45;
const SAME_BODY_PAIRS = 5;
// The handler's timeout; the lease is this plus the worker's 5 s margin, and the idle poll is 2 s (src/dispatch/worker.ts).
const TIMEOUT_MS = 2_000;
const LEASE_PLUS_POLL_MS = TIMEOUT_MS + 5_000 + 2_000;

type Seen = { path: string; deliveryId: string; replica: string; startedAt: number; endedAt?: number; answered: boolean };

/** The remote end of both handlers: records each attempt with its replica and how long it was in flight. */
class RecordingSink {
  readonly seen: Seen[] = [];
  readonly overlaps: string[] = [];
  private readonly inFlight = new Map<string, number>();
  private serialInFlight = 0;
  maxSerialInFlight = 0;
  /** The killed replica's attempts are held long enough to still be in flight when it dies. */
  slowReplica?: string;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    let count = 0;
    this.server = createServer((req, res) => {
      const entry: Seen = {
        path: req.url ?? '',
        deliveryId: String(req.headers['webhook-id']),
        replica: String(req.headers['x-replica']),
        startedAt: Date.now(),
        answered: false,
      };
      this.seen.push(entry);
      const running = (this.inFlight.get(entry.deliveryId) ?? 0) + 1;
      this.inFlight.set(entry.deliveryId, running);
      if (running > 1) this.overlaps.push(entry.deliveryId);
      const serial = entry.path.startsWith('/serial');
      if (serial) this.maxSerialInFlight = Math.max(this.maxSerialInFlight, ++this.serialInFlight);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        entry.endedAt = Date.now();
        this.inFlight.set(entry.deliveryId, (this.inFlight.get(entry.deliveryId) ?? 1) - 1);
        if (serial) this.serialInFlight -= 1;
      };
      // A killed replica's connection closes without an answer: the attempt is over for the sink too.
      res.on('close', end);
      req.resume();
      req.on('end', () => {
        count += 1;
        // Sometimes slow (every fifth answer), and the replica about to die always slow, so it dies holding claims.
        const delay = entry.replica === this.slowReplica ? 1_500 : count % 5 === 0 ? 150 : 0;
        setTimeout(() => {
          if (res.destroyed) return;
          entry.answered = true;
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        }, delay);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

type DeliveryJson = { id: string; handler: string; status: string; attemptLog: Array<{ outcome: string | null }> };

async function eventDeliveries(target: ServerProcess, eventId: string): Promise<DeliveryJson[]> {
  const response = await fetch(`${target.url}/api/events/${eventId}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  if (!response.ok) throw new Error(`GET /api/events/${eventId}: ${response.status}`);
  return ((await response.json()) as { deliveries: DeliveryJson[] }).deliveries;
}

/** One POST; undefined when the replica did not acknowledge (connection refused or reset, non-200). */
async function postOnce(target: ServerProcess, body: string): Promise<{ id: string; duplicate: boolean } | undefined> {
  try {
    const response = await fetch(`${target.url}/webhooks/chatlio/unanswered?token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 200) return undefined;
    const answer = (await response.json()) as { id: string; duplicate?: boolean };
    return { id: answer.id, duplicate: answer.duplicate === true };
  } catch {
    return undefined;
  }
}

const sink = new RecordingSink();
const replicas: ServerProcess[] = [];
let dropDatabase: (() => Promise<void>) | undefined;

afterAll(async () => {
  await Promise.all(replicas.map((replica) => stopServer(replica, 'SIGKILL')));
  await sink.close();
  await dropDatabase?.();
});

describe('three replicas on one PostgreSQL database', () => {
  it('stores every acknowledged body once, delivers everything once at a time, survives a SIGKILL, and keeps a concurrency of 1 global', async () => {
    await sink.start();
    const database = await freshDatabase();
    dropDatabase = database.drop;
    for (let i = 0; i < REPLICAS; i += 1) {
      const name = `r${i + 1}`;
      const configFile = writeConfig({
        handlers: [
          { name: 'forward', type: 'http', events: '*', concurrency: 4, timeout: `${TIMEOUT_MS}ms`, options: { url: `${sink.url}/forward`, headers: { 'x-replica': name }, signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } },
          { name: 'serial', type: 'http', events: '*', concurrency: 1, timeout: `${TIMEOUT_MS}ms`, options: { url: `${sink.url}/serial`, headers: { 'x-replica': name }, signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } },
        ],
      });
      replicas.push(await startServer({ DATABASE_URL: database.url, CONFIG_FILE: configFile, LOG_LEVEL: 'warn' }));
    }
    const victim = replicas[2]!;
    sink.slowReplica = 'r3';
    const live = replicas.slice(0, 2);

    // Each body goes to a replica in turn; unacknowledged ones are retried on the live replicas, as Chatlio retries.
    const acknowledged = new Map<string, string>();
    let resent = 0;
    const send = async (body: string, first: number) => {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        if (attempt > 0) resent += 1;
        const target = attempt === 0 ? replicas[first % REPLICAS]! : live[attempt % live.length]!;
        const answer = await postOnce(target, body);
        if (answer) {
          acknowledged.set(body, answer.id);
          return answer;
        }
      }
      throw new Error('a body was never acknowledged by a live replica');
    };

    // Bodies go out a few at a time; in the last wave, once the victim is mid-attempt (its answers are slow), it is
    // killed while posts to it are in flight, so some go unacknowledged and are sent again to the others.
    let killedAt = 0;
    const kill = async () => {
      await waitFor(() => (sink.seen.some((seen) => seen.replica === 'r3' && !seen.answered) ? true : undefined), 15_000, 'r3 to be mid-attempt');
      killedAt = Date.now();
      await stopServer(victim, 'SIGKILL');
    };
    const burst = async () => {
      const bodies = Array.from({ length: EVENTS }, () => JSON.stringify(payload('unanswered')));
      for (let start = 0; start < EVENTS; start += 6) {
        const wave = bodies.slice(start, start + 6).map((body, i) => ({ body, first: start + i }));
        if (start + 6 < EVENTS) {
          await Promise.all(wave.map(({ body, first }) => send(body, first)));
          continue;
        }
        // The last wave: the victim's share is posted as it dies, and must be acknowledged by the others.
        const toVictim = wave.filter(({ first }) => first % REPLICAS === 2);
        await Promise.all([
          ...wave.filter((post) => !toVictim.includes(post)).map(({ body, first }) => send(body, first)),
          kill().then(() => Promise.all(toVictim.map(({ body, first }) => send(body, first)))),
        ]);
      }
    };
    // The same bytes to two replicas at the same moment: one event, both answers name it.
    const pairs = async () => {
      for (let i = 0; i < SAME_BODY_PAIRS; i += 1) {
        const body = JSON.stringify(payload('unanswered'));
        const [a, b] = await Promise.all([send(body, 0), send(body, 1)]);
        expect(b.id).toBe(a.id);
        expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
      }
    };
    await Promise.all([burst(), pairs()]);
    expect(killedAt).toBeGreaterThan(0);
    expect(resent).toBeGreaterThan(0);
    expect(acknowledged.size).toBe(EVENTS + SAME_BODY_PAIRS);

    // Every acknowledged body is stored exactly once (its own id, no other event with the same bytes).
    const ids = [...acknowledged.values()];
    expect(new Set(ids).size).toBe(ids.length);
    const listed = await fetch(`${live[0]!.url}/api/events?limit=200`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const stored = ((await listed.json()) as { data: Array<{ id: string }> }).data.map((event) => event.id);
    expect(stored.sort()).toEqual([...ids].sort());

    // Every delivery ends succeeded: the killed replica's within lease plus poll time of its death.
    const settled = await waitFor(async () => {
      const all = await Promise.all(ids.map((id) => eventDeliveries(live[0]!, id)));
      return all.every((rows) => rows.length === 2 && rows.every((row) => row.status === 'succeeded')) ? all.flat() : undefined;
    }, LEASE_PLUS_POLL_MS + 20_000, 'every delivery to succeed');
    // The victim's attempts the sink never answered: its claims died with it, and a live replica ran them again.
    const orphaned = sink.seen.filter((seen) => seen.replica === 'r3' && !seen.answered);
    expect(orphaned.length).toBeGreaterThan(0);
    const reruns = orphaned.map((orphan) => {
      const rerun = sink.seen.find((seen) => seen.deliveryId === orphan.deliveryId && seen.replica !== 'r3' && seen.answered);
      expect(rerun, `${orphan.deliveryId} run again by a live replica`).toBeDefined();
      return { path: orphan.path, delayMs: rerun!.startedAt - killedAt };
    });
    // Back on its way within lease plus poll time (and a little for a loaded machine). Only where the handler has room:
    // concurrency is global, so a dead claim holds its slot until the lease runs out, and the one 'serial' delivery
    // killed mid-attempt then waits behind every serial delivery queued meanwhile (it completes: checked above).
    const forwardDelays = reruns.filter((rerun) => rerun.path.startsWith('/forward')).map((rerun) => rerun.delayMs);
    for (const delay of forwardDelays) expect(delay, JSON.stringify(reruns)).toBeLessThan(LEASE_PLUS_POLL_MS + 3_000);
    expect(settled.filter((row) => row.attemptLog.some((attempt) => attempt.outcome === 'interrupted')).length).toBeGreaterThan(0);

    // No delivery in flight twice at once, a concurrency of 1 never exceeded across replicas, and both live replicas worked.
    expect(sink.overlaps).toEqual([]);
    expect(sink.maxSerialInFlight).toBe(1);
    for (const replica of ['r1', 'r2']) expect(sink.seen.filter((seen) => seen.replica === replica).length).toBeGreaterThan(0);
    // Every delivery reached the sink and was answered there.
    expect(new Set(sink.seen.filter((seen) => seen.answered).map((seen) => seen.deliveryId)).size).toBe(ids.length * 2);
  }, 120_000);
});
