// What real operations saw of the database: the outcome of the last write, and damage once seen (it does not heal).
// The readiness probe's own small write can still fit on a full disk; this is what tells it the truth.
import type { Logger } from '../../logger.js';
import { isStorageUnavailable } from '../../errors.js';

const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;

export type StorageHealth = ReturnType<typeof storageHealth>;

export function storageHealth(path: string, logger: Pick<Logger, 'error'> | undefined) {
  let lastWriteFailure: Error | undefined;
  let damage: string | undefined;
  const codeOf = (error: unknown) => String((error as { code?: unknown }).code ?? '');

  const saw = (error: unknown) => {
    const code = codeOf(error);
    if (damage || !DAMAGED.test(code)) return;
    damage = `the database file ${path} is damaged (${code}: ${(error as Error).message}); stop chatlio-relay, run \`chatlio-relay check-db\` and restore a backup`;
    // One loud line, once: every request after this fails the same way and logs only its own 503.
    logger?.error({ code }, damage);
  };

  return {
    /** Any storage call that threw: damage is remembered for good. */
    saw,
    /** A write (group commit, claim, attempt) committed. */
    wrote(): void {
      lastWriteFailure = undefined;
    },
    /** A write failed: a storage failure (disk full, I/O error, damage) makes the storage not ready until a write succeeds. */
    writeFailed(error: unknown): void {
      saw(error);
      if (isStorageUnavailable(error)) lastWriteFailure = error as Error;
    },
    damage: () => damage,
    lastWriteFailure: () => lastWriteFailure,
  };
}

/** Wraps every method of `storage` so that the errors it throws (sync or async) reach `saw`. */
export function watchErrors<T extends object>(storage: T, saw: (error: unknown) => void): T {
  const watched: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(storage)) {
    if (typeof value !== 'function') {
      watched[name] = value;
      continue;
    }
    watched[name] = (...args: unknown[]) => {
      try {
        const result: unknown = value(...args);
        if (result instanceof Promise) return result.catch((error: unknown) => { saw(error); throw error; });
        return result;
      } catch (error) {
        saw(error);
        throw error;
      }
    };
  }
  return watched as T;
}
