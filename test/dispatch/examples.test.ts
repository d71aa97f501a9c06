// Each documented use case, run from its examples/*.yaml with the vendors' URLs pointed at local servers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { tempDir } from '../helpers/app.js';
import { waitFor } from '../helpers/server.js';

type HandlerEntry = { name: string; type: string; delay?: string; options: Record<string, unknown> };
type ExampleConfig = { handlers: HandlerEntry[] } & Record<string, unknown>;

const example = (file: string): ExampleConfig => parse(readFileSync(join(import.meta.dirname, '..', '..', 'examples', file), 'utf8')) as ExampleConfig;

beforeAll(() => {
  // The examples keep secrets in the environment; the loader substitutes them.
  Object.assign(process.env, {
    ZENDESK_TOKEN: 'zd-secret',
    TWILIO_SID: 'AC0001',
    TWILIO_TOKEN: 'tw-secret',
    TWILIO_MESSAGING_SERVICE: 'MG0001',
    FORWARD_SIGNING_SECRET: `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}`,
  });
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(respond: Sink['respond'] = () => ({ status: 201, body: '{"ticket":{"id":1},"sid":"SM1"}' })): Promise<Sink> {
  const started = await startSink(respond);
  cleanups.push(started.close);
  return started;
}

/** Points every vendor URL of the example at `remote`, keeping everything else as documented. */
function local(config: ExampleConfig, remote: Sink): ExampleConfig {
  for (const handler of config.handlers) {
    if (handler.type === 'zendesk' || handler.type === 'twilio') handler.options.baseUrl = remote.url;
    if (handler.type === 'slack') handler.options.webhookUrl = `${remote.url}/slack/${handler.name}`;
    if (handler.type === 'http') handler.options.url = `${remote.url}/http/${handler.name}`;
  }
  return config;
}

async function relay(config: ExampleConfig): Promise<DispatchApp> {
  const app = await createDispatchApp(config);
  cleanups.push(app.close);
  return app;
}

const forms = (remote: Sink) => remote.requests.filter((r) => r.url.includes('/Messages.json')).map((r) => Object.fromEntries(new URLSearchParams(r.body.toString())));
const slackTexts = (remote: Sink) => remote.requests.filter((r) => r.url.startsWith('/slack/')).map((r) => (JSON.parse(r.body.toString()) as { text: string }).text);

describe('examples from the docs, end to end', () => {
  it('zendesk.yaml: files transcripts and offline messages as Zendesk tickets', async () => {
    const remote = await sink();
    const app = await relay(local(example('zendesk.yaml'), remote));
    await app.settled(await app.post('transcript', payload('transcript')));
    await app.settled(await app.post('offline-message', payload('offline-message')));
    expect(await app.post('conversation-started', payload('conversation-started')).then(app.deliveries)).toEqual([]);
    expect(remote.requests.map((r) => r.url)).toEqual(['/api/v2/tickets.json', '/api/v2/tickets.json']);
    expect(remote.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ops@acme.test/token:zd-secret').toString('base64')}`);
  });

  it('sms-on-start.yaml: texts when a visitor wants to chat', async () => {
    const remote = await sink();
    const app = await relay(local(example('sms-on-start.yaml'), remote));
    await app.settled(await app.post('conversation-started', payload('conversation-started')));
    expect(forms(remote)).toEqual([
      { To: '+15550002222', From: '+15550001111', Body: 'Chat waiting: united-states-27 on http://yoursite.com/signup: Hi, I am having trouble signing up' },
    ]);
  });

  it('siren.yaml: runs a program when a chat starts', async () => {
    const config = example('siren.yaml');
    const dir = tempDir('chatlio-relay-siren-');
    const siren = join(dir, 'siren.mjs');
    writeFileSync(siren, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(join(dir, 'rang'))}, process.argv.slice(2).join(' '));`);
    const command = config.handlers[0]!.options.command as string[];
    config.handlers[0]!.options.command = [process.execPath, siren, ...command.slice(1)];
    const app = await relay(config);
    await app.settled(await app.post('conversation-started', payload('conversation-started')));
    expect(readFileSync(join(dir, 'rang'), 'utf8')).toBe('--seconds 3');
  });

  it('escalation.yaml: posts to Slack at once and texts the manager only for chats nobody answered in time', async () => {
    const remote = await sink();
    const config = local(example('escalation.yaml'), remote);
    expect(config.handlers[1]!.delay).toBe('5m');
    config.handlers[1]!.delay = '400ms';
    const app = await relay(config);
    const answered = payload('unanswered');
    const answeredId = await app.post('unanswered', answered);
    const ignoredId = await app.post('unanswered', payload('unanswered'));
    await app.post('transcript', payload('transcript', { conversationUUID: answered.conversationUUID }));
    const [, cancelled] = await app.settled(answeredId);
    expect(cancelled).toMatchObject({ handler: 'manager-sms', status: 'cancelled' });
    const delivered = await app.settled(ignoredId);
    expect(delivered.map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
    expect(slackTexts(remote)).toHaveLength(2);
    expect(forms(remote).map((form) => form.To).sort()).toEqual(['+15550002222', '+15550003333']);
    expect(forms(remote)[0]!.Body).toMatch(/^Still unanswered after 5 minutes: united-states-27/);
  });

  it('feedback-sms.yaml: texts management on thumbs-down feedback only, posts all feedback to Slack', async () => {
    const remote = await sink();
    const app = await relay(local(example('feedback-sms.yaml'), remote));
    await app.settled(await app.post('feedback', payload('feedback', {}, 'rating-fields')));
    await app.settled(await app.post('feedback', payload('feedback', { chatRating: 'up', chatFeedback: 'Lovely' }, 'rating-fields')));
    expect(forms(remote)).toEqual([{ To: '+15550002222', MessagingServiceSid: 'MG0001', Body: '👎 from united-states-27: Took too long to get an answer.' }]);
    expect(slackTexts(remote).sort()).toEqual([
      '👍 *Feedback* from united-states-27\n>Lovely',
      '👎 *Feedback* from united-states-27\n>Took too long to get an answer.',
    ]);
  });

  it('urgent-slack.yaml: sends only transcripts tagged "urgent" with /chatlio send-to-webhook', async () => {
    const remote = await sink();
    const app = await relay(local(example('urgent-slack.yaml'), remote));
    await app.settled(await app.post('transcript', payload('transcript', { extraData: ['urgent'] })));
    expect(await app.deliveries(await app.post('transcript', payload('transcript')))).toEqual([]);
    expect(slackTexts(remote)).toEqual([':fire: *Urgent* chat with costa-mesa-california-us-133 (Some One): <https://yourcompany.slack.com/archives/cl-tiger128|open in Slack>']);
  });

  it('forward-signed.yaml: forwards every event byte for byte, signed, and logs it', async () => {
    const remote = await sink(() => ({ status: 200 }));
    const app = await relay(local(example('forward-signed.yaml'), remote));
    const body = JSON.stringify(payload('unanswered'));
    await app.settled(await app.post('unanswered', body));
    expect(remote.requests).toHaveLength(1);
    expect(remote.requests[0]!.body.toString()).toBe(body);
    expect(remote.requests[0]!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(remote.requests[0]!.headers['x-source']).toBe('chatlio-relay');
    await waitFor(() => (app.logs().includes('chatlio unanswered event') ? true : undefined));
    expect(existsSync(app.configFile)).toBe(true);
  });
});
