import { afterEach, describe, expect, it } from 'vitest';
import { request, Agent } from 'node:http';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { API_TOKEN, WEBHOOK_TOKEN, tempDir } from '../helpers/app.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';
import { DB_FILE } from '../../src/store/sqlite/db.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  if (server) await stopServer(server, 'SIGKILL');
  server = undefined;
});

/** One POST over a keep-alive agent; resolves with the stored id on 200, undefined on any failure. */
function post(url: string, agent: Agent, body: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(text) as { id: string }).id : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged event when the server is killed with SIGKILL during a burst of posts', async () => {
    const dataDir = tempDir('chatlio-relay-crash-');
    server = await startServer({ DATA_DIR: dataDir });
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const acknowledged: Array<{ id: string; conversation: string }> = [];
    let sent = 0;
    let killed = false;

    // 20 concurrent senders keep posting unique transcripts until the server dies.
    const sender = async (worker: number) => {
      while (!killed) {
        const conversation = `crash-${worker}-${sent++}`;
        const id = await post(server!.url, agent, JSON.stringify({ conversationUUID: conversation, messages: [{ text: 'x'.repeat(200) }] }));
        if (id) acknowledged.push({ id, conversation });
        else if (killed) return;
      }
    };
    const senders = Array.from({ length: 20 }, (_, worker) => sender(worker));
    const until = Date.now() + 10_000;
    while (acknowledged.length < 300 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    server.child.kill('SIGKILL');
    killed = true;
    await server.exited;
    await Promise.all(senders);
    agent.destroy();
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    // Opening the database after the crash recovers the WAL as the restarted server would.
    const db = new Database(join(dataDir, DB_FILE), { readonly: true });
    const byConversation = db.prepare('SELECT count(*) AS n FROM events WHERE conversation_uuid = ?');
    const missing = acknowledged.filter(({ conversation }) => (byConversation.get(conversation) as { n: number }).n !== 1);
    db.close();
    expect(missing).toEqual([]);

    // And the restarted server serves them.
    server = await startServer({ DATA_DIR: dataDir });
    const last = acknowledged.at(-1)!;
    const response = await fetch(`${server.url}/api/events/${last.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.status).toBe(200);
  });
});
