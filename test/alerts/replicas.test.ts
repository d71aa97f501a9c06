// Alerts with several replicas on one PostgreSQL database: one evaluates at a time, and an episode is sent once.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { evaluateAlerts } from '../../src/alerts/evaluator.js';
import { freshDatabase, openTestStorage, silentLogger } from '../helpers/postgres.js';
import { tempDir, API_TOKEN, WEBHOOK_TOKEN } from '../helpers/app.js';
import { writeConfig } from '../helpers/dispatch.js';
import { deliverTo, newEvent } from '../helpers/events.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const configFile = writeConfig({
  handlers: [
    { name: 'zendesk', type: 'http', events: '*', options: { url: 'http://127.0.0.1:9/x' } },
    { name: 'ops', type: 'log' },
  ],
  alerts: { notify: ['ops'] },
});

async function replica(url: string): Promise<AppContext> {
  const dataDir = tempDir();
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dataDir, CONFIG_FILE: configFile, WEBHOOK_TOKEN, API_TOKEN });
  const storage = await openTestStorage(url);
  cleanups.push(() => storage.close());
  return createContext(config, silentLogger, { storage });
}

/** Two replicas on a fresh database in which a zendesk delivery has just gone dead (the "dead" condition holds). */
async function replicasWithADeadDelivery(): Promise<[AppContext, AppContext]> {
  const { url, drop } = await freshDatabase();
  cleanups.push(drop);
  const [one, two] = [await replica(url), await replica(url)];
  await one.storage.ingest(newEvent({ plan: deliverTo(Date.now(), 'zendesk') }));
  const [claimed] = await one.storage.claimDue({ handler: 'zendesk', concurrency: 1, leaseMs: 10_000, unlessFollowedBy: [] });
  await one.storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 404, next: { status: 'dead' } });
  return [one, two];
}

describe('postgres: alerts shared by replicas', () => {
  it('opens one alert and one notification when two replicas evaluate at once, and resolves it once', async () => {
    const [one, two] = await replicasWithADeadDelivery();

    const now = Date.now();
    const results = await Promise.all([evaluateAlerts(one, now, now), evaluateAlerts(two, now, now), evaluateAlerts(one, now, now)]);
    expect(results.flatMap((result) => result?.opened ?? [])).toHaveLength(1);
    expect(await two.storage.openAlerts()).toMatchObject([{ kind: 'dead', subject: 'zendesk' }]);
    expect(await two.storage.listDeliveries({ handler: 'ops' }, { limit: 10 })).toHaveLength(1);

    // The trigger goes out (on either replica), then the dead delivery goes with its event.
    const [sent] = await two.storage.claimDue({ handler: 'ops', concurrency: 1, leaseMs: 10_000, unlessFollowedBy: [] });
    await two.storage.recordAttempt({ deliverySeq: sent!.seq, attemptId: sent!.attemptId, claimToken: sent!.claimToken, durationMs: 1, outcome: 'succeeded', next: { status: 'succeeded' } });
    await two.storage.deleteOlderThan(Date.now() + 1, 100);
    const cleared = await Promise.all([evaluateAlerts(two, now + 1, now), evaluateAlerts(one, now + 1, now)]);
    expect(cleared.flatMap((result) => result?.resolved ?? [])).toHaveLength(1);
    expect((await one.storage.listDeliveries({ handler: 'ops' }, { limit: 10 })).map((d) => d.alertAction)).toEqual(['resolve', 'trigger']);
  });

  it("evaluates on one replica at a time: while one holds the alerts lock, another's evaluation does nothing", async () => {
    const [one, two] = await replicasWithADeadDelivery();

    // Replica one is in the middle of an evaluation (it holds the lock retention's singleton uses, under the name 'alerts').
    let finish!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const evaluating = one.storage.singleton('alerts', () => {
      holding();
      return new Promise<void>((resolve) => (finish = resolve));
    });
    await held;
    const now = Date.now();
    expect(await evaluateAlerts(two, now, now)).toBeUndefined();
    expect(await two.storage.openAlerts()).toEqual([]);
    finish();
    await evaluating;
    // Once it is done, the next evaluation (on either replica) takes its turn and opens the alert.
    expect((await evaluateAlerts(two, now, now))!.opened).toMatchObject([{ kind: 'dead', subject: 'zendesk' }]);
  });
});
