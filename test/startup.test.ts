import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from './helpers/app.js';
import { CLI, freePort, startServer, stopServer, waitFor } from './helpers/server.js';
import { DB_FILE } from '../src/store/sqlite/db.js';
import { API_TOKEN_FILE, WEBHOOK_TOKEN_FILE } from '../src/tokens.js';

/** Runs `chatlio-relay serve` expecting it to exit by itself; returns its exit code and output. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('first start', () => {
  it('generates owner-only tokens, says once where they are kept (no token in captured output), and reuses them later', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, WEBHOOK_TOKEN: '', API_TOKEN: '', PUBLIC_URL: 'https://chat.example.test' };
    const first = await startServer(env);
    const webhookToken = readFileSync(join(dataDir, WEBHOOK_TOKEN_FILE), 'utf8').trim();
    const apiToken = readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim();
    expect(webhookToken.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dataDir, WEBHOOK_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, API_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    // Not a terminal: the URLs (with the token) are left to `chatlio-relay urls`; the terminal case is test/e2e/banner.test.ts.
    await waitFor(() => (first.output().includes('chatlio-relay urls') ? true : undefined), 10_000, 'the first-start notice');
    expect(first.output()).not.toContain(webhookToken);
    expect(first.output()).toContain(join(dataDir, API_TOKEN_FILE));
    expect(first.output()).not.toContain(apiToken);
    const posted = await fetch(`${first.url}/webhooks/chatlio/feedback?token=${webhookToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(posted.status).toBe(200);
    expect(await stopServer(first)).toBe(0);

    const second = await startServer(env);
    expect(second.output()).not.toContain('first start');
    const read = await fetch(`${second.url}/api/events/${((await posted.json()) as { id: string }).id}`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    expect(read.status).toBe(200);
    expect(readFileSync(join(dataDir, WEBHOOK_TOKEN_FILE), 'utf8').trim()).toBe(webhookToken);
    expect(await stopServer(second)).toBe(0);
  });

  it('accepts either of two comma-separated webhook tokens', async () => {
    const tokens = ['rotating-old-0123456789abcdef', 'rotating-new-0123456789abcdef'];
    const server = await startServer({ WEBHOOK_TOKEN: tokens.join(',') });
    for (const token of tokens) {
      const response = await fetch(`${server.url}/webhooks/chatlio/unanswered?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversationUUID: token }),
      });
      expect(response.status).toBe(200);
    }
    await stopServer(server);
  });

  it('stops with the variable name when the environment is invalid', async () => {
    const { code, output } = await runToExit({ DATA_DIR: tempDir(), PORT: String(await freePort()), WEBHOOK_TOKEN: 'too-short' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/WEBHOOK_TOKEN: .*at least 24 characters/);
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const dataDir = tempDir();
    const db = new Database(join(dataDir, DB_FILE));
    db.pragma('user_version = 999');
    db.close();
    const { code, output } = await runToExit({
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      WEBHOOK_TOKEN: 'test-webhook-token-0123456789abcdef',
      API_TOKEN: 'test-api-token-0123456789abcdefghij',
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(/schema version 999 is newer than this chatlio-relay understands/);
  });
});
