// vitest globalSetup: one PostgreSQL for the whole run (PG_TEST_URL, or a throwaway cluster); each test file then
// creates its own database on it (test/helpers/postgres.ts). No server means the run fails, never a silent skip.
import type { TestProject } from 'vitest/node';
import { startCluster } from './postgres-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (process.env.PG_TEST_URL) {
    project.provide('pgUrl', process.env.PG_TEST_URL);
    return undefined;
  }
  const cluster = await startCluster();
  project.provide('pgUrl', cluster.url);
  return cluster.stop;
}
