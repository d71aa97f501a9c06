// Each documented use case, run from its examples/*.yaml unchanged, pointed at local servers through the variables it documents.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDispatchApp, payload, withEnv, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { tempDir } from '../helpers/app.js';
import { parseDispatchConfig } from '../../src/dispatch/config.js';
import { waitFor } from '../helpers/server.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

type HandlerEntry = { name: string; type: string; delay?: string; options?: Record<string, unknown> };
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

const cleanups = cleanupAfterEach();

const sink = async (respond: Sink['respond'] = () => ({ status: 201, body: '{"ticket":{"id":1},"sid":"SM1"}' })): Promise<Sink> =>
  closedAfter(cleanups, await startSink(respond));

/**
 * Starts a relay on the example as a user would try it: the file unchanged, the variables it documents pointing it at
 * local servers. They are set only while the relay reads its config.
 */
async function relay(config: ExampleConfig, env: Record<string, string> = {}): Promise<DispatchApp> {
  return closedAfter(cleanups, await withEnv(env, () => createDispatchApp(config)));
}

const forms = (remote: Sink) => remote.requests.filter((r) => r.url.includes('/Messages.json')).map((r) => Object.fromEntries(new URLSearchParams(r.body.toString())));
const slackTexts = (remote: Sink) => remote.requests.filter((r) => r.url.startsWith('/slack/')).map((r) => (JSON.parse(r.body.toString()) as { text: string }).text);

/** The options that say where a handler sends (or what it runs): each must be there; the optional ones only if used. */
const TARGETS: Record<string, { required: string[]; optional: string[] }> = {
  zendesk: { required: ['baseUrl', 'subdomain', 'email'], optional: ['fallbackRequesterEmail'] },
  twilio: { required: ['baseUrl', 'to'], optional: ['from', 'messagingServiceSid'] },
  slack: { required: ['webhookUrl'], optional: [] },
  http: { required: ['url'], optional: [] },
  command: { required: ['command'], optional: [] },
  pagerduty: { required: ['baseUrl'], optional: [] },
  email: { required: ['host', 'to'], optional: [] },
};

function targets(handler: HandlerEntry): Array<[string, unknown]> {
  const options = handler.options ?? {};
  const { required, optional } = TARGETS[handler.type] ?? { required: [], optional: [] };
  const keys = [...required, ...optional.filter((key) => key in options)];
  const picked = keys.map((key): [string, unknown] => [key, key === 'command' ? (options.command as unknown[] | undefined)?.[0] : options[key]]);
  return handler.delay === undefined ? picked : [...picked, ['delay', handler.delay]];
}

describe('defect 9: example recipes can be tried without editing', () => {
  const files = readdirSync(join(import.meta.dirname, '..', '..', 'examples')).filter((file) => file.endsWith('.yaml'));

  it.each(files)('%s takes every URL, target and delay from ${VAR}, with the real service as the default', (file) => {
    for (const handler of example(file).handlers) {
      for (const [key, value] of targets(handler)) {
        for (const item of Array.isArray(value) ? value : [value]) expect(item, `${file}: ${handler.name}.${key}`).toMatch(/^\$\{[A-Z_]+(:-[^}]+)?\}$/);
      }
    }
  });

  it('defaults to the real services and the documented delay when only the secrets are set', () => {
    const secrets = { ZENDESK_TOKEN: 'z', TWILIO_SID: 'AC1', TWILIO_TOKEN: 't', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' };
    const zendesk = parseDispatchConfig(example('zendesk.yaml'), 'zendesk.yaml', secrets).handlers[0]!.options;
    expect(zendesk).toMatchObject({ baseUrl: 'https://acme.zendesk.com', subdomain: 'acme', fallbackRequesterEmail: 'chat@acme.test' });
    const escalation = parseDispatchConfig(example('escalation.yaml'), 'escalation.yaml', secrets).handlers[1]!;
    expect(escalation.delayMs).toBe(5 * 60_000);
    expect(escalation.options).toMatchObject({ baseUrl: 'https://api.twilio.com', to: ['+15550002222', '+15550003333'], body: expect.stringMatching(/^Still unanswered after 5m: /) as unknown });
    const forward = parseDispatchConfig(example('forward-signed.yaml'), 'forward-signed.yaml', { FORWARD_SIGNING_SECRET: `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}` });
    expect(forward.handlers[0]!.options).toMatchObject({ url: 'https://hooks.acme.test/chatlio' });
    expect(parseDispatchConfig(example('siren.yaml'), 'siren.yaml', {}).handlers[0]!.options).toEqual({ command: ['/usr/local/bin/siren', '--seconds', '3'] });
  });
});

describe('examples from the docs, end to end', () => {
  it('zendesk.yaml: files transcripts and offline messages as Zendesk tickets', async () => {
    const remote = await sink();
    const app = await relay(example('zendesk.yaml'), { ZENDESK_URL: remote.url });
    await app.settled(await app.post('transcript', payload('transcript')));
    await app.settled(await app.post('offline-message', payload('offline-message')));
    expect(await app.post('conversation-started', payload('conversation-started')).then(app.deliveries)).toEqual([]);
    expect(remote.requests.map((r) => r.url)).toEqual(['/api/v2/tickets.json', '/api/v2/tickets.json']);
    expect(remote.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ops@acme.test/token:zd-secret').toString('base64')}`);
  });

  it('sms-on-start.yaml: texts when a visitor wants to chat', async () => {
    const remote = await sink();
    const app = await relay(example('sms-on-start.yaml'), { TWILIO_URL: remote.url, ON_CALL_PHONE: '+15550009999' });
    await app.settled(await app.post('conversation-started', payload('conversation-started')));
    expect(forms(remote)).toEqual([
      { To: '+15550009999', From: '+15550001111', Body: 'Chat waiting: united-states-27 on http://yoursite.com/signup: Hi, I am having trouble signing up' },
    ]);
  });

  it('siren.yaml: runs a program when a chat starts', async () => {
    const dir = tempDir('chatlio-relay-siren-');
    const siren = join(dir, 'siren');
    // A program of its own, as /usr/local/bin/siren would be.
    writeFileSync(
      siren,
      `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(join(dir, 'rang'))}, process.argv.slice(2).join(' '));\n`,
      { mode: 0o755 },
    );
    const app = await relay(example('siren.yaml'), { SIREN_COMMAND: siren });
    await app.settled(await app.post('conversation-started', payload('conversation-started')));
    expect(readFileSync(join(dir, 'rang'), 'utf8')).toBe('--seconds 3');
  });

  it('escalation.yaml: posts to Slack at once and texts the manager only for chats nobody answered in time', async () => {
    const remote = await sink();
    const app = await relay(example('escalation.yaml'), { SLACK_WEBHOOK_URL: `${remote.url}/slack/team`, TWILIO_URL: remote.url, ESCALATION_DELAY: '400ms' });
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
    expect(forms(remote)[0]!.Body).toMatch(/^Still unanswered after 400ms: united-states-27/);
  });

  it('feedback-sms.yaml: texts management on thumbs-down feedback only, posts all feedback to Slack', async () => {
    const remote = await sink();
    const app = await relay(example('feedback-sms.yaml'), { SLACK_WEBHOOK_URL: `${remote.url}/slack/feedback`, TWILIO_URL: remote.url });
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
    const app = await relay(example('urgent-slack.yaml'), { SLACK_URGENT_WEBHOOK_URL: `${remote.url}/slack/urgent` });
    await app.settled(await app.post('transcript', payload('transcript', { extraData: ['urgent'] })));
    expect(await app.deliveries(await app.post('transcript', payload('transcript')))).toEqual([]);
    expect(slackTexts(remote)).toEqual([':fire: *Urgent* chat with costa-mesa-california-us-133 (Some One): <https://yourcompany.slack.com/archives/cl-tiger128|open in Slack>']);
  });

  it('forward-signed.yaml: forwards every event byte for byte, signed, and logs it', async () => {
    const remote = await sink(() => ({ status: 200 }));
    const app = await relay(example('forward-signed.yaml'), { FORWARD_URL: `${remote.url}/http/forward` });
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
