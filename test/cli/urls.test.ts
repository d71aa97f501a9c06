import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_TOKEN, tempDir } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';

const TYPES = ['transcript', 'offline-message', 'conversation-started', 'unanswered', 'feedback'];
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});
function dataDir(): string {
  const dir = tempDir('chatlio-relay-cli-');
  dirs.push(dir);
  return dir;
}

describe('chatlio-relay urls', () => {
  it('prints one URL per event type on PUBLIC_URL with the token, without the local-address warning', async () => {
    const result = await runCli(['urls'], { DATA_DIR: dataDir(), WEBHOOK_TOKEN, PUBLIC_URL: 'https://relay.example.com/' });
    expect(result.code).toBe(0);
    for (const type of TYPES) {
      expect(result.stdout).toContain(`    https://relay.example.com/webhooks/chatlio/${type}?token=${WEBHOOK_TOKEN}\n`);
    }
    expect(result.stdout).toContain('Exporting chat transcripts:');
    expect(result.stdout).not.toMatch(/local address/);
    expect(result.stdout).toContain('Web inbox: https://relay.example.com/ui\n');
  });

  it('prints the local HOST:PORT and says Chatlio needs a public address when PUBLIC_URL is not set', async () => {
    const result = await runCli(['urls'], { DATA_DIR: dataDir(), WEBHOOK_TOKEN, PORT: '4123' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`http://127.0.0.1:4123/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`);
    expect(result.stdout).toMatch(/Chatlio needs a public HTTPS one\. Set PUBLIC_URL/);
    expect(result.stdout).toContain('Web inbox: http://127.0.0.1:4123/ui\n');
  });

  it('uses the token the server keeps in DATA_DIR when WEBHOOK_TOKEN is not set', async () => {
    const dir = dataDir();
    const kept = 'kept-in-data-dir-0123456789abcdefghij';
    writeFileSync(join(dir, 'webhook-token'), `${kept}\n`, { mode: 0o600 });
    const result = await runCli(['urls'], { DATA_DIR: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`/webhooks/chatlio/feedback?token=${kept}`);
    expect(result.stdout).toMatch(/sign in with the API token: not generated yet/);
  });

  it('fails with one line and creates no token when there is none yet', async () => {
    const dir = dataDir();
    const result = await runCli(['urls'], { DATA_DIR: dir });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^chatlio-relay urls: no webhook token yet: set WEBHOOK_TOKEN, or start the server once/);
    expect(result.stdout).toBe('');
    expect(existsSync(join(dir, 'webhook-token'))).toBe(false);
    expect(existsSync(join(dir, 'api-token'))).toBe(false);
  });
});
