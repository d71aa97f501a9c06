// The paging and mail recipes, run from their examples/*.yaml with PagerDuty and the SMTP server played by local servers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDispatchApp, payload, withEnv, writeConfig, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink, type SinkRequest } from '../helpers/sink.js';
import { pagerdutyAnswer } from '../helpers/pagerduty.js';
import { SMTP_PASSWORD, SMTP_USER, startSmtp, type SmtpSink } from '../helpers/smtp.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

type HandlerEntry = { name: string; type: string; delay?: string; options: Record<string, unknown> };
type ExampleConfig = { handlers: HandlerEntry[] } & Record<string, unknown>;

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const example = (file: string): ExampleConfig => parse(readFileSync(join(EXAMPLES, file), 'utf8')) as ExampleConfig;

beforeAll(() => {
  // The examples keep secrets and hosts in the environment; the loader substitutes them.
  Object.assign(process.env, { PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY0123456789abcdef012345', SMTP_HOST: '127.0.0.1', SMTP_USER, SMTP_PASSWORD });
});

const cleanups = cleanupAfterEach();

/** A relay on the example; `env` is set only while it reads its config, as a user would try it against a test receiver. */
async function relay(config: ExampleConfig, env: Record<string, string> = {}): Promise<DispatchApp> {
  return closedAfter(cleanups, await withEnv(env, () => createDispatchApp(config)));
}

/**
 * PagerDuty's alert lifecycle as documented: a trigger opens an alert for its dedup_key (or adds to the open one),
 * a resolve closes the open alert with that key and is dropped when there is none.
 */
function fakePagerDuty(): { open: Set<string>; triggered: string[]; respond: (request: SinkRequest) => ReturnType<typeof pagerdutyAnswer> } {
  const state = { open: new Set<string>(), triggered: [] as string[] };
  return {
    ...state,
    respond: (request) => {
      const answer = pagerdutyAnswer(request);
      if (answer === 'hold' || answer.status !== 202) return answer;
      const body = JSON.parse(request.body.toString()) as { event_action: string; dedup_key: string };
      if (body.event_action === 'trigger') {
        state.open.add(body.dedup_key);
        state.triggered.push(body.dedup_key);
      }
      if (body.event_action === 'resolve') state.open.delete(body.dedup_key);
      return answer;
    },
  };
}

describe('recipes from issue 11, end to end', () => {
  it('pagerduty-unanswered.yaml: pages on-call for a chat still unanswered after the delay, and closes the page when it is answered', async () => {
    const pagerduty = fakePagerDuty();
    const remote: Sink = await startSink(pagerduty.respond);
    cleanups.push(remote.close);
    const config = example('pagerduty-unanswered.yaml');
    const [page, close] = config.handlers;
    expect(page).toMatchObject({ type: 'pagerduty', delay: '${PAGE_AFTER:-5m}', options: { action: 'trigger' } });
    expect(close).toMatchObject({ type: 'pagerduty', options: { action: 'resolve' } });
    // The file unchanged, pointed at the local PagerDuty and a shorter delay through the variables it documents.
    const app = await relay(config, { PAGERDUTY_URL: remote.url, PAGE_AFTER: '400ms' });

    // Answered in time: the page is cancelled before it is sent.
    const answered = payload('unanswered');
    const answeredId = await app.post('unanswered', answered);
    await app.settled(await app.post('transcript', payload('transcript', { conversationUUID: answered.conversationUUID })));
    const [cancelled] = await app.settled(answeredId);
    expect(cancelled).toMatchObject({ handler: 'page-on-call', status: 'cancelled' });

    // Nobody answered: on-call is paged, and the transcript that comes when someone does answer closes the alert.
    const ignored = payload('unanswered');
    const [paged] = await app.settled(await app.post('unanswered', ignored));
    const key = `chatlio-${String(ignored.conversationUUID)}`;
    expect(paged).toMatchObject({ handler: 'page-on-call', status: 'succeeded', externalId: key });
    expect(pagerduty.triggered).toEqual([key]);
    expect([...pagerduty.open]).toEqual([key]);
    const trigger = JSON.parse(remote.requests.find((r) => r.body.includes('"trigger"'))!.body.toString()) as { payload: { summary: string; severity: string } };
    expect(trigger.payload).toMatchObject({
      summary: 'Chat unanswered for 5 minutes: united-states-27 on http://yoursite.com/signup: Hi, I am having trouble signing up',
      severity: 'critical',
    });
    const [resolved] = await app.settled(await app.post('transcript', payload('transcript', { conversationUUID: ignored.conversationUUID })));
    expect(resolved).toMatchObject({ handler: 'close-page', status: 'succeeded' });
    expect([...pagerduty.open]).toEqual([]);
  });

  it('email-rated-down.yaml: mails the support lead every transcript rated down, and only those', async () => {
    const smtp: SmtpSink = await startSmtp();
    cleanups.push(smtp.close);
    const config = example('email-rated-down.yaml');
    const [mail] = config.handlers;
    expect(mail).toMatchObject({ type: 'email', options: { host: '${SMTP_HOST}', port: '${SMTP_PORT:-587}' } });
    // The local server's certificate is made for the test: trusting it is the one change to the file.
    Object.assign(mail!.options, { tls: { caFile: smtp.caFile } });
    const app = await relay(config, { SMTP_PORT: String(smtp.port) });

    const down = payload('transcript', { visitorEmail: 'vic@example.test' }, 'rating-down');
    await app.settled(await app.post('transcript', down));
    expect(await app.post('transcript', payload('transcript')).then(app.deliveries)).toEqual([]);

    expect(smtp.mails).toHaveLength(1);
    const [received] = smtp.mails;
    expect(received).toMatchObject({ secure: true, user: SMTP_USER, envelopeTo: ['support-lead@acme.test'] });
    expect(received!.parsed.subject).toMatch(/^👎 Chat with .+ rated down/);
    expect(received!.parsed.replyTo?.value).toEqual([{ address: 'vic@example.test', name: '' }]);
    expect(received!.parsed.text).toContain('Feedback: Waited 20 minutes and nobody answered my question.');
  });
});

describe('check-config with the new handler types', () => {
  const env = { PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY', SMTP_HOST: 'smtp.acme.test', SMTP_USER, SMTP_PASSWORD };

  it('accepts both recipes and lists which handler runs for which event, without printing secrets', async () => {
    const paging = await runCli(['check-config', join(EXAMPLES, 'pagerduty-unanswered.yaml')], env);
    expect(paging.code, paging.stderr).toBe(0);
    expect(paging.stdout).toMatch(/unanswered\s+→ page-on-call \(pagerduty, after 300s\)/);
    expect(paging.stdout).toMatch(/transcript\s+→ close-page \(pagerduty\)/);
    const mail = await runCli(['check-config', join(EXAMPLES, 'email-rated-down.yaml')], env);
    expect(mail.code, mail.stderr).toBe(0);
    expect(mail.stdout).toMatch(/transcript\s+→ lead-mail \(email, when …\)/);
    expect(paging.stdout + mail.stdout).not.toMatch(/R0UTINGKEY|smtp-secret/);
  });

  it('refuses bad options of each new type, naming the field', async () => {
    const configFile = writeConfig({
      handlers: [
        { name: 'mail', type: 'email', events: ['transcript'], options: { host: 'smtp.acme.test', from: 'chat@acme.test', to: ['not an address'], user: 'only-user' } },
        { name: 'page', type: 'pagerduty', events: ['unanswered'], options: { routingKey: 'k', action: 'escalate' } },
        { name: 'teams', type: 'teams', events: ['unanswered'], options: { webhookUrl: 'ftp://teams.test/x' } },
        { name: 'discord', type: 'discord', events: ['unanswered'], options: { webhookUrl: 'https://discord.test/x', title: '{{#who}}' } },
        { name: 'mail-port', type: 'email', events: ['transcript'], options: { host: 'smtp.acme.test', port: 'smtp', from: 'chat@acme.test', to: ['lead@acme.test'] } },
      ],
    });
    const line = oneLineError(await runCli(['check-config', configFile]));
    for (const field of ['handlers[0].options.to[0]', 'handlers[0].options.password', 'handlers[1].options.action', 'handlers[2].options.webhookUrl', 'handlers[3].options.title', 'handlers[4].options.port: expected a port number']) {
      expect(line).toContain(field);
    }
  });
});
