// What a test opened (servers, apps, databases, temp files) is closed after it, the last opened first.
import { afterEach } from 'vitest';

export type Cleanups = Array<() => unknown>;

/** Called once at a test file's top level: what is pushed on the returned list runs after each test, last first. */
export function cleanupAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** Puts `resource.close` on `cleanups` and hands the resource back. */
export function closedAfter<T extends { close: () => unknown }>(cleanups: Cleanups, resource: T): T {
  cleanups.push(resource.close);
  return resource;
}
