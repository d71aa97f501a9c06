import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp, QUICK_RETRY } from '../helpers/dispatch.js';
import { startSink, type Sink, type SinkRequest } from '../helpers/sink.js';
import { tempDir } from '../helpers/app.js';
import { smsSegments } from '../../src/text.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const sink = async (respond?: Sink['respond']): Promise<Sink> => closedAfter(cleanups, await startSink(respond));
const relay = async (handlers: unknown[]): Promise<DispatchApp> => closedAfter(cleanups, await createDispatchApp({ retry: QUICK_RETRY, handlers }));

/**
 * Standard Webhooks verification written from the spec, independent of src/: the key is the base64 after "whsec_",
 * the signed content is "{webhook-id}.{webhook-timestamp}.{body}", the header holds space-separated "v1,<base64>" entries,
 * and the timestamp must be within 5 minutes.
 */
function verifyStandardWebhook(secret: string, request: SinkRequest): boolean {
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const signatures = request.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), request.body])).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('http handler', () => {
  it('signs the exact body so an independent Standard Webhooks verifier accepts it, and a wrong secret does not', async () => {
    const remote = await sink();
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const app = await relay([
      { name: 'signed', type: 'http', events: '*', options: { url: `${remote.url}/in`, signingSecret: secret, headers: { 'x-extra': 'yes' } } },
    ]);
    const body = `${JSON.stringify(payload('transcript'))}\n`;
    const id = await app.post('transcript', body);
    const [delivery] = await app.settled(id);
    const request = remote.requests[0]!;
    expect(request.body.toString()).toBe(body);
    expect(request.headers['x-extra']).toBe('yes');
    expect(request.headers['webhook-id']).toBe(delivery!.id);
    expect(verifyStandardWebhook(secret, request)).toBe(true);
    const other = `whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`;
    expect(verifyStandardWebhook(other, request)).toBe(false);
    expect(verifyStandardWebhook(secret, { ...request, body: Buffer.concat([request.body, Buffer.from(' ')]) })).toBe(false);
  });
});

describe('slack handler', () => {
  it('posts a readable message per type, escaping visitor text for mrkdwn and linking the Slack archive', async () => {
    const remote = await sink();
    const app = await relay([{ name: 'slack', type: 'slack', events: '*', options: { webhookUrl: `${remote.url}/services/T/B/X` } }]);
    const started = await app.post(
      'conversation-started',
      payload('conversation-started', { message: 'Is <b>this</b> & that <!channel> free?' }),
    );
    await app.settled(started);
    const transcript = await app.post('transcript', payload('transcript'));
    await app.settled(transcript);
    const [first, second] = remote.requests.map((request) => (JSON.parse(request.body.toString()) as { text: string }).text);
    expect(first).toContain('New chat');
    expect(first).toContain('on http://yoursite.com/signup');
    expect(first).toContain('Is &lt;b&gt;this&lt;/b&gt; &amp; that &lt;!channel&gt; free?');
    expect(first).not.toContain('<!channel>');
    expect(second).toContain('answered by Some One');
    expect(second).toContain('👍');
    expect(second).toContain('<https://yourcompany.slack.com/archives/cl-tiger128|Open in Slack>');
  });

  it('uses a per-type text template from the options', async () => {
    const remote = await sink();
    const app = await relay([
      { name: 'slack', type: 'slack', events: '*', options: { webhookUrl: remote.url, text: { feedback: 'Rated {{chatRating}} by {{who}}' } } },
    ]);
    const id = await app.post('feedback', payload('feedback', { visitor: { name: 'Ann' } }, 'rating-fields'));
    await app.settled(id);
    expect(JSON.parse(remote.requests[0]!.body.toString())).toEqual({ text: 'Rated down by Ann' });
  });
});

describe('zendesk handler', () => {
  const options = (baseUrl: string) => ({ subdomain: 'acme', email: 'ops@acme.test', apiToken: 'zd-token', baseUrl, fallbackRequesterEmail: 'chat@acme.test' });

  it('creates a ticket from a transcript with html_body and the requester fallback, and keeps the ticket id', async () => {
    let next = 100;
    const remote = await sink(() => ({ status: 201, body: JSON.stringify({ ticket: { id: (next += 1) } }) }));
    const app = await relay([{ name: 'zendesk', type: 'zendesk', events: ['transcript', 'offline-message'], options: options(remote.url) }]);
    const withVisitor = await app.post('transcript', payload('transcript', { visitorEmail: 'Vic@Example.test ' }));
    const withReplyTo = await app.post('transcript', payload('transcript'));
    const withNothing = await app.post('transcript', payload('transcript', { replyToEmail: '' }));
    for (const id of [withVisitor, withReplyTo, withNothing]) await app.settled(id);
    const tickets = remote.requests.map((request) => (JSON.parse(request.body.toString()) as { ticket: Record<string, unknown> }).ticket);
    expect(remote.requests[0]!.url).toBe('/api/v2/tickets.json');
    expect(remote.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ops@acme.test/token:zd-token').toString('base64')}`);
    expect(tickets.find((ticket) => (ticket.requester as { email: string }).email === 'Vic@Example.test')).toMatchObject({
      subject: 'Chat with costa-mesa-california-us-133',
      comment: { html_body: expect.stringContaining('<HTML output of transcript') as unknown, public: false },
    });
    // The three attempts run concurrently, so the requests may arrive in any order.
    expect(tickets.map((ticket) => (ticket.requester as { email: string }).email).sort()).toEqual(['Vic@Example.test', 'chat@acme.test', 'chat@acme.test']);
    const ticketIds = await Promise.all([withVisitor, withReplyTo, withNothing].map(async (id) => (await app.deliveries(id))[0]!.externalId));
    expect(ticketIds.sort()).toEqual(['101', '102', '103']);
    const event = await app.api('GET', `/api/events/${withVisitor}`);
    expect(event.json).toMatchObject({ deliveries: [{ handler: 'zendesk', externalId: expect.stringMatching(/^10[123]$/) as unknown, status: 'succeeded' }] });
  });

  it('creates a ticket from an offline message with its text as the body and the sender as requester', async () => {
    const remote = await sink(() => ({ status: 201, body: '{"ticket":{"id":7}}' }));
    const app = await relay([{ name: 'zendesk', type: 'zendesk', events: ['offline-message'], options: options(remote.url) }]);
    const id = await app.post('offline-message', payload('offline-message', { message: 'Call me back <please>' }));
    await app.settled(id);
    const { ticket } = JSON.parse(remote.requests[0]!.body.toString()) as { ticket: Record<string, unknown> };
    expect(ticket).toMatchObject({
      subject: 'Offline message from Bob Smith',
      comment: { body: 'Call me back <please>' },
      requester: { email: 'bob@smith.com', name: 'Bob Smith' },
    });
  });

  it("defect 2: never makes Chatlio's no-reply address the requester: visitor email, else the fallback, else the visitor by name only", async () => {
    const remote = await sink(() => ({ status: 201, body: '{"ticket":{"id":1}}' }));
    const { fallbackRequesterEmail: _fallback, ...withoutFallback } = options(remote.url);
    const app = await relay([
      { name: 'with-fallback', type: 'zendesk', events: ['transcript'], when: { extraData: { contains: 'fallback' } }, options: options(remote.url) },
      { name: 'no-fallback', type: 'zendesk', events: ['transcript'], when: { extraData: { contains: 'none' } }, options: withoutFallback },
    ]);
    // Chatlio's documented transcript of an anonymous visitor: visitorEmail "" and replyToEmail "no-reply@chatlio.com".
    const requesterOf = async (extraData: string[], overrides: Record<string, unknown> = {}) => {
      const before = remote.requests.length;
      await app.settled(await app.post('transcript', payload('transcript', { extraData, ...overrides })));
      return (JSON.parse(remote.requests[before]!.body.toString()) as { ticket: { requester: unknown } }).ticket.requester;
    };
    expect(await requesterOf(['fallback'])).toEqual({ email: 'chat@acme.test', name: 'costa-mesa-california-us-133' });
    expect(await requesterOf(['none'])).toEqual({ name: 'costa-mesa-california-us-133' });
    expect(await requesterOf(['none'], { replyToEmail: 'NoReply+widget@mail.chatlio.com', visitorName: 'Ann' })).toEqual({ name: 'Ann' });
    expect(await requesterOf(['none'], { replyToEmail: 'ann@example.test' })).toEqual({ email: 'ann@example.test', name: 'costa-mesa-california-us-133' });
    expect(await requesterOf(['fallback'], { visitorEmail: 'vic@example.test' })).toEqual({ email: 'vic@example.test', name: 'costa-mesa-california-us-133' });
  });

  it('defect 1: cuts a long subject on a whole emoji, never leaving U+FFFD', async () => {
    const remote = await sink(() => ({ status: 201, body: '{"ticket":{"id":1}}' }));
    const app = await relay([{ name: 'zendesk', type: 'zendesk', events: ['offline-message'], options: options(remote.url) }]);
    await app.settled(await app.post('offline-message', payload('offline-message', { subject: `${'x'.repeat(249)}😀 and the rest` })));
    const { ticket } = JSON.parse(remote.requests[0]!.body.toString()) as { ticket: { subject: string } };
    expect(ticket.subject).toBe(`${'x'.repeat(249)}…`);
  });

  it('marks the delivery dead when Zendesk refuses the ticket with 422', async () => {
    const remote = await sink(() => ({ status: 422, body: '{"error":"RecordInvalid"}' }));
    const app = await relay([{ name: 'zendesk', type: 'zendesk', events: ['transcript'], options: options(remote.url) }]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'dead', lastStatusCode: 422 });
    expect(delivery!.lastError).toContain('RecordInvalid');
  });
});

describe('twilio handler', () => {
  it('texts every number form-encoded with basic auth, and on retry skips the numbers already texted', async () => {
    const failedOnce = new Set<string>();
    const remote = await sink((request) => {
      const to = new URLSearchParams(request.body.toString()).get('To')!;
      if (to === '+15550003333' && !failedOnce.has(to)) {
        failedOnce.add(to);
        return { status: 503 };
      }
      return { status: 201, body: JSON.stringify({ sid: `SM${to.slice(-4)}` }) };
    });
    const app = await relay([
      {
        name: 'sms',
        type: 'twilio',
        events: ['unanswered'],
        options: { accountSid: 'AC123', authToken: 'tw-token', from: '+15550001111', to: ['+15550002222', '+15550003333'], baseUrl: remote.url, maxLength: 40 },
      },
    ]);
    const id = await app.post('unanswered', payload('unanswered', { message: 'x'.repeat(200) }));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2, externalId: 'SM2222,SM3333' });
    const forms = remote.requests.map((request) => Object.fromEntries(new URLSearchParams(request.body.toString())));
    expect(forms.map((form) => form.To)).toEqual(['+15550002222', '+15550003333', '+15550003333']);
    expect(remote.requests[0]!.url).toBe('/2010-04-01/Accounts/AC123/Messages.json');
    expect(remote.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(remote.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('AC123:tw-token').toString('base64')}`);
    expect(forms[0]!.From).toBe('+15550001111');
    expect(forms[0]!.Body!.length).toBeLessThanOrEqual(40);
    expect(forms[0]!.Body!.startsWith('Nobody has answered united-states-27')).toBe(true);
    expect(forms[0]!.Body!.endsWith('...')).toBe(true);
  });

  const smsTo = (remote: Sink, extra: Record<string, unknown>) =>
    relay([
      {
        name: 'sms',
        type: 'twilio',
        events: ['unanswered'],
        options: { accountSid: 'AC123', authToken: 'tw-token', from: '+15550001111', to: '+15550002222', baseUrl: remote.url, body: '{{message}}', ...extra },
      },
    ]);
  const bodies = (remote: Sink) => remote.requests.map((request) => new URLSearchParams(request.body.toString()).get('Body')!);

  it('defect 1: cuts a long SMS on a whole emoji, never leaving U+FFFD', async () => {
    const remote = await sink(() => ({ status: 201, body: '{"sid":"SM1"}' }));
    const app = await smsTo(remote, { maxLength: 40 });
    // The emoji with its skin tone is 4 UTF-16 units at 36–39: the old slice(0, 39) kept half of it.
    await app.settled(await app.post('unanswered', payload('unanswered', { message: `${'a'.repeat(36)}👍🏽${'b'.repeat(30)}` })));
    await app.settled(await app.post('unanswered', payload('unanswered', { message: `${'a'.repeat(35)}👍🏽${'b'.repeat(30)}` })));
    expect(bodies(remote)).toEqual([`${'a'.repeat(36)}...`, `${'a'.repeat(35)}👍🏽…`]);
    expect(remote.requests[0]!.body.toString()).not.toContain('%EF%BF%BD');
  });

  it('defect 1: keeps every SMS within maxSegments, counting GSM-7 and UCS-2 the way Twilio does', async () => {
    const remote = await sink(() => ({ status: 201, body: '{"sid":"SM1"}' }));
    const app = await smsTo(remote, { maxSegments: 2 });
    await app.settled(await app.post('unanswered', payload('unanswered', { message: 'x'.repeat(400) })));
    await app.settled(await app.post('unanswered', payload('unanswered', { message: 'Zażółć gęślą jaźń '.repeat(20) })));
    await app.settled(await app.post('unanswered', payload('unanswered', { message: `${'x'.repeat(200)}€{}` })));
    const [gsm, ucs2, short] = bodies(remote);
    // Two parts of 153 septets, the last three "..." so the SMS stays GSM-7; two parts of 67 UCS-2 units ending "…".
    expect(gsm).toBe(`${'x'.repeat(303)}...`);
    expect(smsSegments(ucs2!)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(ucs2!.length).toBeGreaterThan(130);
    expect(ucs2!.endsWith('…')).toBe(true);
    expect(short).toBe(`${'x'.repeat(200)}€{}`);
  });
});

describe('command handler', () => {
  const script = (source: string) => {
    const dir = tempDir('chatlio-relay-cmd-');
    const file = join(dir, 'hook.mjs');
    writeFileSync(file, source);
    return { dir, file };
  };

  it('runs the program with the event JSON on stdin and HOOK_* variables, capturing its output', async () => {
    const { dir, file } = script(`
      import { readFileSync, writeFileSync } from 'node:fs';
      const event = JSON.parse(readFileSync(0, 'utf8'));
      writeFileSync(process.argv[2], JSON.stringify({ event, env: process.env, args: process.argv.slice(3) }));
      console.log('siren on');
    `);
    const out = join(dir, 'out.json');
    const app = await relay([{ name: 'siren', type: 'command', events: ['conversation-started'], options: { command: [process.execPath, file, out, '--seconds', '3; rm -rf /'] } }]);
    const id = await app.post('conversation-started', payload('conversation-started', { visitor: { email: 'Ann@Example.test', name: 'Ann' } }));
    const [delivery] = await app.settled(id);
    expect(delivery!.status).toBe('succeeded');
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { event: { id: string; type: string }; env: Record<string, string>; args: string[] };
    expect(seen.event).toMatchObject({ id, type: 'conversation-started' });
    expect(seen.args).toEqual(['--seconds', '3; rm -rf /']);
    expect(seen.env).toMatchObject({ HOOK_EVENT_ID: id, HOOK_EVENT_TYPE: 'conversation-started', HOOK_VISITOR_EMAIL: 'ann@example.test', HOOK_VISITOR_NAME: 'Ann' });
    expect(seen.env.HOOK_CONVERSATION_UUID).toMatch(/^c0nv-/);
    expect(seen.env.API_TOKEN).toBeUndefined();
    expect((await app.ctx.storage.attempts(delivery!.seq))[0]!.response).toBe('siren on\n');
  });

  it('defect 1: keeps a command\'s output on whole characters, never leaving U+FFFD, however it is cut or chunked', async () => {
    const { file } = script(`
      const euro = Buffer.from('€');
      process.stdout.write(euro.subarray(0, 1));
      // The rest of the character arrives in a later chunk.
      setTimeout(() => process.stdout.write(Buffer.concat([euro.subarray(1), Buffer.from('a' + '😀'.repeat(3000))])), 100);
    `);
    const app = await relay([{ name: 'talkative', type: 'command', events: '*', options: { command: [process.execPath, file] } }]);
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript')));
    const response = (await app.ctx.storage.attempts(delivery!.seq))[0]!.response!;
    // 4,096 units would end in half an emoji.
    expect(response).toBe(`€a${'😀'.repeat(2047)}`);
  });

  it('counts a non-zero exit as a failed attempt and keeps the output', async () => {
    const { file } = script(`console.error('no siren here'); process.exit(3);`);
    const app = await relay([{ name: 'siren', type: 'command', events: '*', options: { command: [process.execPath, file] } }]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3, lastError: 'exited with code 3' });
    expect((await app.ctx.storage.attempts(delivery!.seq))[0]!.response).toBe('no siren here\n');
  });

  it('kills a program that outlives the timeout and counts it as a failure', async () => {
    const { file } = script(`setTimeout(() => {}, 60_000);`);
    const app = await relay([{ name: 'slow', type: 'command', events: '*', timeout: '300ms', options: { command: [process.execPath, file] } }]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'dead', lastError: 'timed out after 300 ms' });
  });
});

describe('log and module handlers', () => {
  it('writes each event through the logger', async () => {
    const app = await relay([{ name: 'audit', type: 'log', events: '*' }]);
    const id = await app.post('feedback', payload('feedback'));
    await app.settled(id);
    expect(app.logs()).toContain('"msg":"chatlio feedback event"');
    expect(app.logs()).toContain(id);
  });

  it('masks the visitor in the log line when LOG_MASK_PII is on', async () => {
    const app = await createDispatchApp({ handlers: [{ name: 'audit', type: 'log', events: '*' }] }, { env: { LOG_MASK_PII: 'true' } });
    cleanups.push(app.close);
    const id = await app.post('offline-message', payload('offline-message'));
    await app.settled(id);
    expect(app.logs()).toContain('"email":"b***@smith.com"');
    expect(app.logs()).not.toContain('bob@smith.com');
  });

  it('loads a handler of your own from a JS file and records its result', async () => {
    const dir = tempDir('chatlio-relay-module-');
    writeFileSync(
      join(dir, 'mine.mjs'),
      `export default (options, deps) => ({
        async deliver(event, ctx) {
          return { ok: true, externalId: options.prefix + event.id + '@' + deps.name + '#' + ctx.attempt, statusCode: 200 };
        },
      });`,
    );
    const app = await relay([{ name: 'mine', type: 'module', events: '*', options: { path: join(dir, 'mine.mjs'), options: { prefix: 'x-' } } }]);
    const id = await app.post('transcript', payload('transcript'));
    const [delivery] = await app.settled(id);
    expect(delivery).toMatchObject({ status: 'succeeded', externalId: `x-${id}@mine#1` });
  });
});
