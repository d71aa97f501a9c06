// File modes of what the SQLite backend keeps in DATA_DIR: visitors' personal data, so owner-only whatever the umask.
import { chmodSync, mkdirSync, statSync } from 'node:fs';

/** Creates the directory 0700 when missing; returns its permission bits as they are (an existing one is not changed). */
export function ensureOwnerOnlyDir(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return statSync(dir).mode & 0o777;
}

/** Removes group and other permissions from `file` if it exists (files an older version left 0644). */
export function ownerOnly(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((mode & 0o077) !== 0) chmodSync(file, mode & 0o700);
}
