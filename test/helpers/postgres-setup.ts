// vitest globalSetup: one PostgreSQL for the whole run (PG_TEST_URL, or a throwaway cluster); each test file then
// creates its own database on it (test/helpers/postgres.ts). No server means the run fails, never a silent skip.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { HOW_TO_PROVIDE, startCluster } from './postgres-cluster.js';
import { describeUrl } from '../../src/store/postgres/connection.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PG_TEST_URL (${describeUrl(url)}) cannot be reached: ${(error as Error).message}. ${HOW_TO_PROVIDE}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (process.env.PG_TEST_URL) {
    await checkReachable(process.env.PG_TEST_URL);
    project.provide('pgUrl', process.env.PG_TEST_URL);
    return undefined;
  }
  const cluster = await startCluster();
  project.provide('pgUrl', cluster.url);
  return cluster.stop;
}
