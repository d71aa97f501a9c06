// Defect 7 (issue 12): the OpenAPI document could not generate a good client (no servers, operationIds, error
// responses or webhook bodies). Linted with Redocly, then a typed client generated from it is compiled and run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, createTestApp, tempDir, type TestApp } from '../helpers/app.js';

const ROOT = join(import.meta.dirname, '..', '..');

type Operation = { operationId?: string; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
type OpenApiDocument = { servers?: Array<{ url: string }>; paths: Record<string, Record<string, Operation>> };

let t: TestApp;
let document: OpenApiDocument;
let source: string;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  source = (await t.app.inject({ url: '/openapi.json' })).body;
  document = JSON.parse(source) as OpenApiDocument;
});
afterAll(async () => {
  await t?.close();
});

const operations = () => Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));

describe('defect 7: the OpenAPI document cannot generate a good client', () => {
  it('passes the Redocly linter (recommended rules) with no errors and no warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    expect(problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`)).toEqual([]);
  });

  it('has servers, a unique operationId on every operation, and every problem response with the shared Problem schema', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const problemRef = { $ref: '#/components/schemas/Problem' };
    for (const { path, method, operation } of operations()) {
      const statuses = path.startsWith('/webhooks/') ? ['400', '401', '413', '415', '422', '503'] : ['400', '401', '503', ...(path.includes('{') ? ['404'] : [])];
      for (const status of statuses) {
        expect(operation.responses[status]?.content?.['application/problem+json']?.schema, `${method} ${path} ${status}`).toEqual(problemRef);
      }
    }
  });

  it('documents each webhook request body from its schema, and the routes still parse the raw bytes themselves', async () => {
    const feedback = document.paths['/webhooks/chatlio/feedback']!.post!;
    expect(feedback.requestBody?.content['application/json']?.schema).toMatchObject({ type: 'object', properties: { message: expect.anything() } });
    // Not validated by Fastify a second time: a body the schema refuses is still our own 422, and it is stored as a rejection.
    const refused = await t.app.inject({
      method: 'POST',
      url: `/webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN}`,
      headers: { 'content-type': 'application/json' },
      payload: '{"visitor": 5}',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json<{ errors: unknown[] }>().errors.length).toBeGreaterThan(0);
  });

  it('servers from PUBLIC_URL when it is set', async () => {
    const other = await createTestApp({ PUBLIC_URL: 'https://relay.example.com/' });
    try {
      const served = (await other.app.inject({ url: '/openapi.json' })).json<OpenApiDocument>();
      expect(served.servers).toEqual([expect.objectContaining({ url: 'https://relay.example.com' })]);
    } finally {
      await other.close();
    }
  });

  it('generates a typed client (openapi-typescript) that compiles (tsc, strict) and reads the real answers (openapi-fetch)', async () => {
    const dir = tempDir('chatlio-relay-openapi-client-');
    try {
      writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(source)));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      // Compiles only if the document types the webhook body, the 200 answers and the problem bodies.
      writeFileSync(
        join(dir, 'client.ts'),
        `import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const client = createClient<paths>({ baseUrl: process.env.BASE_URL! });
const webhook = await client.POST('/webhooks/chatlio/feedback', {
  headers: { Authorization: 'Bearer ' + process.env.WEBHOOK_TOKEN! },
  body: { message: 'typed client', conversationUUID: 'c0ffee00-0000-4000-8000-000000000001', visitor: { email: 'jane@example.com' } },
});
if (!webhook.data) throw new Error('webhook refused');
const stored: string = webhook.data.id;
const auth = { Authorization: 'Bearer ' + process.env.API_TOKEN! };
const list = await client.GET('/api/events', { params: { query: { limit: 10, type: 'feedback' } }, headers: auth });
const listedIds: string[] = (list.data?.data ?? []).map((event) => event.id);
const one = await client.GET('/api/events/{id}', { params: { path: { id: stored } }, headers: auth });
const email: string | null | undefined = one.data?.visitor.email;
const missing = await client.GET('/api/events/{id}', { params: { path: { id: 'evt_nope' } }, headers: auth });
const missingStatus: number | undefined = missing.error?.status;
const bad = await client.GET('/api/events', { params: { query: { limit: 0 } }, headers: auth });
const badPaths: string[] = (bad.error?.errors ?? []).map((error) => error.path);
const refused = await client.POST('/webhooks/chatlio/feedback', { headers: { Authorization: 'Bearer wrong-token-0123456789abcdef' }, body: { message: 'x' } });
const refusedTitle: string | undefined = refused.error?.title;
console.log(JSON.stringify({ stored, listedIds, email, missingStatus, badPaths, refusedTitle }));
`,
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const compile = ['--strict', '--noUncheckedIndexedAccess', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--outDir', join(dir, 'out'), join(dir, 'client.ts')];
      try {
        execFileSync(process.execPath, [tsc, ...compile], { cwd: dir, encoding: 'utf8' });
      } catch (error) {
        throw new Error(`the generated client does not compile:\n${(error as { stdout?: string }).stdout ?? String(error)}`, { cause: error });
      }
      mkdirSync(join(dir, 'out'), { recursive: true });
      writeFileSync(join(dir, 'out', 'package.json'), '{"type":"module"}');
      const address = t.app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const output = await new Promise<string>((resolve, reject) => {
        import('node:child_process').then(({ execFile }) =>
          execFile(
            process.execPath,
            [join(dir, 'out', 'client.js')],
            { cwd: dir, env: { PATH: process.env.PATH, BASE_URL: `http://127.0.0.1:${port}`, WEBHOOK_TOKEN, API_TOKEN } },
            (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
          ),
        );
      });
      const answers = JSON.parse(output) as { stored: string; listedIds: string[]; email: string; missingStatus: number; badPaths: string[]; refusedTitle: string };
      expect(answers.stored).toMatch(/^evt_/);
      expect(answers.listedIds).toContain(answers.stored);
      expect(answers.email).toBe('jane@example.com');
      expect(answers.missingStatus).toBe(404);
      expect(answers.badPaths).toEqual(['limit']);
      expect(answers.refusedTitle).toBe('Unauthorized');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
