// The Storage contract's web inbox sessions, through the interface alone, on the backend under test.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Storage, UiSession } from '../../src/store/storage.js';
import { tempDir } from '../helpers/app.js';
import { TEST_BACKEND, testStorage } from '../helpers/storage.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// vitest runs this file once per backend (the sqlite and postgres projects of vitest.config.ts).
const backends: Array<[string, () => Promise<Storage>]> = [
  [
    TEST_BACKEND,
    async () => {
      const dataDir = tempDir('chatlio-relay-sessions-');
      const storage = await testStorage({ dataDir });
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      cleanups.push(() => storage.close());
      return storage;
    },
  ],
];

const T0 = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;

const session = (idHash: string, createdAt = T0, hours = 12): UiSession => ({
  idHash,
  csrfToken: `csrf-${idHash}`,
  tokenFingerprint: 'fp',
  createdAt,
  expiresAt: createdAt + hours * HOUR,
});

for (const [backend, makeStorage] of backends) describe(`web inbox sessions (${backend})`, () => {
  it('gives a stored session back as stored until it expires, and nothing for an unknown id', async () => {
    const storage = await makeStorage();
    await storage.createSession(session('a'));
    expect(await storage.getSession('a', T0 + HOUR)).toEqual(session('a'));
    expect(await storage.getSession('a', T0 + 12 * HOUR)).toBeUndefined();
    expect(await storage.getSession('b', T0)).toBeUndefined();
  });

  it('ends one session on sign-out and every session on sign-out everywhere', async () => {
    const storage = await makeStorage();
    for (const id of ['a', 'b', 'c']) await storage.createSession(session(id));
    await storage.deleteSession('a');
    expect(await storage.getSession('a', T0)).toBeUndefined();
    expect(await storage.getSession('b', T0)).toBeDefined();
    expect(await storage.deleteAllSessions()).toBe(2);
    expect(await storage.getSession('b', T0)).toBeUndefined();
    expect(await storage.getSession('c', T0)).toBeUndefined();
  });

  it('drops expired sessions when a new one is created, keeping the live ones', async () => {
    const storage = await makeStorage();
    await storage.createSession(session('old', T0, 1));
    await storage.createSession(session('live', T0, 12));
    await storage.createSession(session('new', T0 + 2 * HOUR));
    // Only the two live sessions are left to end.
    expect(await storage.deleteAllSessions()).toBe(2);
  });
});
