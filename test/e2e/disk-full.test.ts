// Issue 12, what must keep holding: the real server on a real file system that fills up (tmpfs and ext4, as the
// trial ran it) answers 503 with Retry-After, serves again once there is room without a restart, and every event it
// acknowledged with 200 is stored byte for byte. Mounting needs root, so each file system says why it cannot run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';

type FileSystem = 'tmpfs' | 'ext4';

const mounted: Array<{ dir: string; image?: string }> = [];
let server: ServerProcess | undefined;
afterEach(async () => {
  if (server) await stopServer(server, 'SIGKILL');
  server = undefined;
  for (const { dir, image } of mounted.splice(0)) {
    execFileSync('umount', ['-l', dir]);
    if (image) rmSync(image, { force: true });
  }
});

/** A small file system of `kind` mounted on a fresh folder (ext4 in a loop-mounted image file), `sizeMb` big. */
function mountSmall(kind: FileSystem, sizeMb: number): string {
  const dir = tempDir(`chatlio-relay-${kind}-`);
  if (kind === 'tmpfs') {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push({ dir });
    return dir;
  }
  const image = join(tempDir('chatlio-relay-ext4-image-'), 'fs.img');
  writeFileSync(image, Buffer.alloc(0));
  execFileSync('truncate', ['-s', `${sizeMb}M`, image]);
  // -m 0: no blocks reserved for root (the server runs as root here, and would otherwise fill those too).
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image], { stdio: 'pipe' });
  execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
  mounted.push({ dir, image });
  return dir;
}

/** Why a file system of `kind` cannot be mounted here, or undefined when it can. */
function cannotMount(kind: FileSystem): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (mount needs root)';
  try {
    const dir = mountSmall(kind, 8);
    const { image } = mounted.pop()!;
    execFileSync('umount', [dir]);
    if (image) rmSync(image, { force: true });
    return undefined;
  } catch (error) {
    return `cannot mount ${kind}: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

const problems: Record<FileSystem, string | undefined> = { tmpfs: cannotMount('tmpfs'), ext4: cannotMount('ext4') };
for (const [kind, problem] of Object.entries(problems)) {
  if (problem) console.warn(`SKIPPED disk-full.test.ts on ${kind}: ${problem}`);
}

/** Storage full is a 503 the sender retries; any other 5xx is a failure. */
function expectNoFailureBut503({ response, text }: { response: Response; text: string }) {
  expect(response.status === 503 || response.status < 500, `${response.status} ${text}`).toBe(true);
}

const feedback = JSON.parse(readFixture('valid/feedback/documented.json').toString()) as Record<string, unknown>;

describe('a full disk under the real server (keeps holding from issue 12)', () => {
  for (const [kind, sizeMb] of [['tmpfs', 6], ['ext4', 16]] as const) {
    it.skipIf(problems[kind] !== undefined)(`on ${kind}: 503 with Retry-After while full, 200 again once space is freed without a restart, every 200 stored byte for byte`, async () => {
      const mount = mountSmall(kind, sizeMb);
      const dataDir = join(mount, 'data');
      mkdirSync(dataDir, { mode: 0o700 });
      server = await startServer({ DATA_DIR: dataDir });
      const { url, child } = server;

      let n = 0;
      // A different body each time (the same bytes would be a duplicate, which writes nothing), some 18 KB each.
      const post = async () => {
        const body = Buffer.from(`${JSON.stringify({ ...feedback, comment: `${++n} ${'words '.repeat(3000)}` })}\n`);
        const response = await fetch(`${url}/webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await response.text();
        return { response, text, body };
      };
      const acknowledged: Array<{ id: string; body: Buffer }> = [];
      const keep = (answer: Awaited<ReturnType<typeof post>>) => {
        if (answer.response.status === 200) acknowledged.push({ id: (JSON.parse(answer.text) as { id: string }).id, body: answer.body });
      };

      // Space to give back later.
      writeFileSync(join(mount, 'ballast'), Buffer.alloc(1024 * 1024));
      let full: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 3000 && !full; i++) {
        const answer = await post();
        expectNoFailureBut503(answer);
        if (answer.response.status === 503) full = answer;
        else keep(answer);
      }
      expect(full, 'the file system never filled').toBeDefined();
      expect(acknowledged.length).toBeGreaterThan(10);
      for (let i = 0; i < 3; i++) {
        const again = i === 0 ? full! : await post();
        expect(again.response.status).toBe(503);
        expect(Number(again.response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(again.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(again.text)).toMatchObject({ status: 503 });
      }

      rmSync(join(mount, 'ballast'));
      await waitFor(
        async () => {
          const answer = await post();
          expectNoFailureBut503(answer);
          keep(answer);
          return answer.response.status === 200 ? true : undefined;
        },
        10_000,
        'a 200 once space was freed',
      );
      expect(child.exitCode).toBeNull();
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      const changed: string[] = [];
      for (const { id, body } of acknowledged) {
        const raw = await fetch(`${url}/api/events/${id}/raw`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
        if (raw.status !== 200 || !Buffer.from(await raw.arrayBuffer()).equals(body)) changed.push(`${id}: ${raw.status}`);
      }
      expect(changed).toEqual([]);
    }, 90_000);
  }
});
