// Defect 6 (issue 12): the first-start banner wrote the webhook token into stdout, the JSON log stream.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.js';
import { CLI, freePort, waitFor } from '../helpers/server.js';
import { API_TOKEN_FILE, WEBHOOK_TOKEN_FILE } from '../../src/tokens.js';

const started: { child: ChildProcess; dataDir: string }[] = [];
afterEach(() => {
  // Each child is its own process group (detached), so `script` and the server under it end together.
  for (const { child, dataDir } of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Starts `serve` on a fresh DATA_DIR with no tokens given, so it generates both; stdout and stderr kept apart. */
async function firstStart({ terminal }: { terminal: boolean }) {
  const dataDir = tempDir('chatlio-relay-banner-');
  const port = await freePort();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  const command = [process.execPath, CLI, 'serve'];
  // `script` runs the server on a pseudo-terminal and copies what it shows to its own stdout (no transcript file).
  const [file, ...args] = terminal ? ['script', '--quiet', '--return', '--command', command.join(' '), '/dev/null'] : command;
  const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push({ child, dataDir });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 15_000, 'the server to be ready');
  const tokens = {
    webhook: readFileSync(join(dataDir, WEBHOOK_TOKEN_FILE), 'utf8').trim(),
    api: readFileSync(join(dataDir, API_TOKEN_FILE), 'utf8').trim(),
  };
  return { out, dataDir, tokens, port };
}

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) console.log('banner.test.ts: no `script` (util-linux) on this machine to give the server a terminal: the terminal case is skipped');

describe('defect 6: the first-start banner writes the webhook token into the log stream', () => {
  it('with output captured (not a terminal), prints no token anywhere and keeps stdout pure JSON log lines', async () => {
    const { out, dataDir, tokens, port } = await firstStart({ terminal: false });
    // The notice comes once the server listens; wait for its last line rather than a fixed time.
    await waitFor(() => (out.stderr.includes('web inbox') ? true : undefined), 10_000, 'the first-start notice');
    // The inbox's address carries no secret, so it is printed here too.
    expect(out.stderr).toContain(`chatlio-relay: web inbox: http://127.0.0.1:${port}/ui (sign in with the API token).`);
    expect(`${out.stdout}${out.stderr}`).not.toContain(tokens.webhook);
    expect(`${out.stdout}${out.stderr}`).not.toContain(tokens.api);
    expect(out.stderr).toContain(join(dataDir, WEBHOOK_TOKEN_FILE));
    expect(out.stderr).toContain(join(dataDir, API_TOKEN_FILE));
    const lines = out.stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });

  it.skipIf(!hasScript)('at a terminal, prints the five webhook URLs with the token, once', async () => {
    const { out, tokens } = await firstStart({ terminal: true });
    const url = (type: string) => `/webhooks/chatlio/${type}?token=${tokens.webhook}`;
    await waitFor(() => (out.stdout.includes(url('feedback')) ? true : undefined), 10_000, 'the webhook URLs on the terminal');
    for (const type of ['transcript', 'offline-message', 'conversation-started', 'unanswered', 'feedback']) {
      expect(out.stdout.split(url(type)).length - 1, type).toBe(1);
    }
    expect(out.stdout).not.toContain(tokens.api);
  });

  it.skipIf(!hasScript)('at a terminal, prints the web inbox address and where the API token to sign in with is kept, never the token', async () => {
    const { out, tokens, port, dataDir } = await firstStart({ terminal: true });
    await waitFor(() => (out.stdout.includes('sign in with the API token') ? true : undefined), 10_000, 'the inbox address on the terminal');
    expect(out.stdout).toContain(`Web inbox: http://127.0.0.1:${port}/ui`);
    expect(out.stdout).toContain(`sign in with the API token: kept in ${join(dataDir, API_TOKEN_FILE)} (owner-only)`);
    expect(out.stdout).not.toContain(tokens.api);
    // The printed address is the inbox: it answers with its sign-in page.
    const response = await fetch(`http://127.0.0.1:${port}/ui`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/\/ui\/sign-in/);
  });
});
