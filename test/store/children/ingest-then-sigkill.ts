// Child of search-indexer.test.ts: stores real transcripts through the ingest pipeline, then dies by SIGKILL in the
// same turn as the last acknowledgement, before the search indexer's timer can write their full-text rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { payloadSchemas } from '../../../src/chatlio/index.js';
import { ingestEvent } from '../../../src/ingest/pipeline.js';
import { openSqliteStorage } from '../../../src/store/sqlite/index.js';
import type { AppContext } from '../../../src/context.js';

const [path, count] = [process.argv[2]!, Number(process.argv[3])];
const template = JSON.parse(readFileSync(join(import.meta.dirname, '../../../fixtures/valid/transcript/documented.json'), 'utf8')) as Record<string, unknown>;
const storage = await openSqliteStorage({ path, synchronous: 'full', busyTimeoutMs: 5000, rejectionsMax: 100 });
const ctx: Pick<AppContext, 'storage' | 'dispatch'> = { storage };
const results = await Promise.all(
  Array.from({ length: count }, (_, i) => {
    const json = { ...template, conversationUUID: `crash-${i}`, visitorName: `Wombat${i}` };
    const payload = payloadSchemas.transcript.parse(json);
    return ingestEvent(ctx, { type: 'transcript', raw: Buffer.from(JSON.stringify(json)), payload, receivedAt: Date.now() });
  }),
);
process.stdout.write(`${JSON.stringify(results.map((result) => result.id))}\n`, () => process.kill(process.pid, 'SIGKILL'));
