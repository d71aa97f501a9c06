// How each notify handler type renders an alert and its resolution, each against a local server of its protocol.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { pagerdutyAnswer, pagerdutyProblems } from '../helpers/pagerduty.js';
import { discordAnswer, teamsAnswer } from '../helpers/chat-apps.js';
import { SMTP_PASSWORD, SMTP_USER, startSmtp } from '../helpers/smtp.js';
import { waitFor } from '../helpers/server.js';
import { tempDir } from '../helpers/app.js';
import { evaluateAlerts } from '../../src/alerts/evaluator.js';
import type { Alert } from '../../src/store/storage.js';
import { standardWebhookSignature } from '../../src/dispatch/handlers/http.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';
const SECRET = `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`;

async function sink(respond?: Sink['respond']): Promise<Sink> {
  const started = await startSink(respond);
  cleanups.push(started.close);
  return started;
}

const json = (remote: Sink, index: number) => JSON.parse(remote.requests[index]!.body.toString()) as Record<string, unknown>;

/**
 * A transcript whose zendesk delivery goes dead opens an alert; once `fix` makes Zendesk accept and the dead delivery
 * is redelivered, it resolves. Waits for `everywhere(1)`, then `everywhere(2)`: the alert and its resolution sent.
 */
async function zendeskDeadThenFixed(app: DispatchApp, everywhere: (n: number) => boolean, fix: () => void): Promise<Alert> {
  await app.settled(await app.post('transcript', payload('transcript')));
  const [alert] = (await evaluateAlerts(app.ctx, Date.now(), Date.now()))!.opened;
  await waitFor(() => (everywhere(1) ? true : undefined), 15_000, 'the alert at every destination');
  fix();
  await app.api('POST', '/api/deliveries/redeliver?status=dead&handler=zendesk');
  await waitFor(async () => ((await app.ctx.storage.deadCount('zendesk')) === 0 ? true : undefined), 10_000, 'the redelivery');
  expect((await evaluateAlerts(app.ctx, Date.now(), Date.now()))!.resolved).toHaveLength(1);
  await waitFor(() => (everywhere(2) ? true : undefined), 15_000, 'the resolution at every destination');
  return alert!;
}

describe('alerts at each destination', () => {
  it('renders the alert readably, and its resolution as the same alert closed, on every notify handler type', async () => {
    let zendeskStatus = 400;
    const zendesk = await sink(() => ({ status: zendeskStatus, body: zendeskStatus === 400 ? '{"error":"bad <b>request</b> @everyone"}' : '{}' }));
    const pagerduty = await sink(pagerdutyAnswer);
    const teams = await sink(teamsAnswer);
    const discord = await sink(discordAnswer);
    const hook = await sink(() => ({ status: 200 }));
    const smtp = await startSmtp();
    cleanups.push(smtp.close);
    const app: DispatchApp = await createDispatchApp(
      {
        retry: { schedule: ['30ms'], jitter: 0 },
        handlers: [
          { name: 'zendesk', type: 'http', events: '*', options: { url: zendesk.url } },
          { name: 'pd', type: 'pagerduty', options: { routingKey: ROUTING_KEY, baseUrl: pagerduty.url, severity: 'critical' } },
          { name: 'teams', type: 'teams', options: { webhookUrl: teams.url } },
          { name: 'discord', type: 'discord', options: { webhookUrl: discord.url } },
          { name: 'hook', type: 'http', options: { url: hook.url, signingSecret: SECRET } },
          {
            name: 'mail',
            type: 'email',
            options: { host: '127.0.0.1', port: smtp.port, user: SMTP_USER, password: SMTP_PASSWORD, tls: { caFile: smtp.caFile }, from: 'relay@acme.test', to: ['ops@acme.test'] },
          },
        ],
        alerts: { notify: ['pd', 'teams', 'discord', 'hook', 'mail'], failures: false },
      },
      { env: { PUBLIC_URL: 'https://relay.acme.test' } },
    );
    cleanups.push(app.close);
    const everywhere = (n: number) => pagerduty.requests.length === n && teams.requests.length === n && discord.requests.length === n && hook.requests.length === n && smtp.mails.length === n;
    const alert = await zendeskDeadThenFixed(app, everywhere, () => (zendeskStatus = 200));

    // PagerDuty: a documented trigger, then a resolve of the same key, one incident per alert.
    // Named with the database's identity, as public ids are: another relay's alert of the same number is another incident.
    const key = app.ctx.storage.alertKey(alert!.id);
    expect(key).toMatch(new RegExp(`^chatlio-relay-alert-${alert!.id}-[0-9a-z]{8}$`));
    const trigger = json(pagerduty, 0);
    expect(pagerdutyProblems(trigger)).toEqual([]);
    expect(trigger).toMatchObject({
      event_action: 'trigger',
      dedup_key: key,
      payload: { summary: 'zendesk: 1 delivery gave up (dead)', source: 'chatlio-relay', severity: 'critical', class: 'alert:dead', component: 'zendesk' },
      links: [{ href: 'https://relay.acme.test/api/deliveries?handler=zendesk&status=dead' }],
    });
    expect((trigger.payload as { custom_details: Record<string, string> }).custom_details).toMatchObject({ Handler: 'zendesk', 'Status code': '400' });
    expect(json(pagerduty, 1)).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key });

    // Mail: the title as subject, the facts as text; the resolution replies to the alert's mail.
    const [raised, resolved] = smtp.mails;
    expect(raised!.parsed.subject).toBe('[chatlio-relay] Alert: zendesk: 1 delivery gave up (dead)');
    expect(raised!.parsed.text).toContain('Last error: HTTP 400');
    expect(raised!.parsed.text).toContain('What to do: Fix what the last error says');
    expect(raised!.parsed.text).toContain('Details: https://relay.acme.test/api/deliveries?handler=zendesk&status=dead');
    expect(resolved!.parsed.subject).toBe('[chatlio-relay] Resolved: zendesk: 1 delivery gave up (dead)');
    expect(raised!.parsed.messageId).toBe(`<${key}@acme.test>`);
    expect(resolved!.parsed.inReplyTo).toBe(raised!.parsed.messageId);

    // Teams: an Adaptive Card whose text is plain TextRuns, the link a button.
    const card = (json(teams, 0).attachments as Array<{ content: { body: Array<{ inlines: Array<{ text: string }> }>; actions: Array<{ url: string }> } }>)[0]!.content;
    expect(card.body[0]!.inlines[0]!.text).toBe('Alert: zendesk: 1 delivery gave up (dead)');
    expect(card.body.map((block) => block.inlines.map((inline) => inline.text).join(''))).toContain('Status code: 400');
    expect(card.actions[0]!.url).toBe('https://relay.acme.test/api/deliveries?handler=zendesk&status=dead');

    // Discord: red when raised, green when resolved; the remote's error text cannot format or ping.
    const [raisedEmbed] = json(discord, 0).embeds as Array<{ title: string; color: number; fields: Array<{ name: string; value: string }> }>;
    expect(raisedEmbed).toMatchObject({ title: 'Alert: zendesk: 1 delivery gave up (dead)', color: 0xdc2626 });
    expect(raisedEmbed!.fields.find((field) => field.name === 'Last error')!.value).toContain('\\<b>request\\</b> @\u200beveryone');
    expect(json(discord, 0).allowed_mentions).toEqual({ parse: [] });
    expect((json(discord, 1).embeds as Array<{ color: number }>)[0]!.color).toBe(0x16a34a);

    // http: the alert as JSON, signed like an event, marked as an alert.
    const request = hook.requests[0]!;
    expect(request.headers['x-chatlio-relay-alert']).toBe('trigger');
    const signature = standardWebhookSignature(SECRET, String(request.headers['webhook-id']), Number(request.headers['webhook-timestamp']), request.body);
    expect(request.headers['webhook-signature']).toBe(signature);
    expect(json(hook, 0)).toMatchObject({ action: 'trigger', id: alert!.id, kind: 'dead', subject: 'zendesk', status: 'open', summary: 'zendesk: 1 delivery gave up (dead)', lastStatusCode: 400 });
    expect(json(hook, 1)).toMatchObject({ action: 'resolve', status: 'resolved', resolvedAt: expect.any(String) });

    // Every one of them went through the outbox, with attempts on record.
    for (const handler of ['pd', 'teams', 'discord', 'hook', 'mail']) {
      const rows = await app.ctx.storage.listDeliveries({ handler }, { limit: 10 });
      expect(rows.map((row) => [row.alertAction, row.status])).toEqual([
        ['resolve', 'succeeded'],
        ['trigger', 'succeeded'],
      ]);
    }
  });

  it('texts an alert with Twilio, runs a command with it on stdin, hands it to a module and logs it, then the resolution the same ways', async () => {
    let zendeskStatus = 400;
    const zendesk = await sink(() => ({ status: zendeskStatus, body: zendeskStatus === 400 ? '{"error":"RecordInvalid"}' : '{}' }));
    const twilio = await sink((_request, index) => ({ status: 201, body: JSON.stringify({ sid: `SM${index}` }) }));
    const dir = tempDir('chatlio-relay-alert-hooks-');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      `import { appendFileSync, readFileSync } from 'node:fs';
      const alert = JSON.parse(readFileSync(0, 'utf8'));
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('HOOK_')));
      appendFileSync(process.argv[2], JSON.stringify({ alert, env }) + '\\n');`,
    );
    writeFileSync(
      join(dir, 'mine.mjs'),
      `import { appendFileSync } from 'node:fs';
      export default (options) => ({
        async deliver() { return { ok: true }; },
        async deliverAlert(notice, ctx) {
          appendFileSync(options.out, JSON.stringify({ action: notice.action, kind: notice.alert.kind, summary: notice.alert.detail.summary }) + '\\n');
          return { ok: true, externalId: 'mine-' + notice.alert.id + '-' + notice.action };
        },
      });`,
    );
    const commandOut = join(dir, 'command.jsonl');
    const moduleOut = join(dir, 'module.jsonl');
    const app: DispatchApp = await createDispatchApp(
      {
        retry: { schedule: ['30ms'], jitter: 0 },
        handlers: [
          { name: 'zendesk', type: 'http', events: '*', options: { url: zendesk.url } },
          { name: 'sms', type: 'twilio', options: { baseUrl: twilio.url, accountSid: 'AC1', authToken: 'tw-secret', from: '+15550001111', to: ['+15550002222', '+15550003333'] } },
          { name: 'hook', type: 'command', options: { command: [process.execPath, hook, commandOut] } },
          { name: 'mine', type: 'module', options: { path: join(dir, 'mine.mjs'), options: { out: moduleOut } } },
          { name: 'audit', type: 'log' },
        ],
        alerts: { notify: ['sms', 'hook', 'mine', 'audit'], failures: false },
      },
      { env: { PUBLIC_URL: 'https://relay.acme.test' } },
    );
    cleanups.push(app.close);
    const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>) : []);
    const everywhere = (n: number) => twilio.requests.length === 2 * n && lines(commandOut).length === n && lines(moduleOut).length === n;

    const alert = await zendeskDeadThenFixed(app, everywhere, () => (zendeskStatus = 200));

    // Twilio: each number texted the title, the last error and the link; then the resolution's title.
    const texts = twilio.requests.map((request) => Object.fromEntries(new URLSearchParams(request.body.toString())));
    expect(texts.map((form) => form.To)).toEqual(['+15550002222', '+15550003333', '+15550002222', '+15550003333']);
    expect(texts[0]!.Body).toBe('Alert: zendesk: 1 delivery gave up (dead)\nHTTP 400: {"error":"RecordInvalid"}\nhttps://relay.acme.test/api/deliveries?handler=zendesk&status=dead');
    expect(texts[2]!.Body).toBe('Resolved: zendesk: 1 delivery gave up (dead)');

    // command: the alert JSON on stdin (as the http handler sends it) and HOOK_ALERT_* in the environment.
    const [raised, resolved] = lines(commandOut);
    expect(raised!.alert).toMatchObject({ action: 'trigger', id: alert!.id, kind: 'dead', subject: 'zendesk', status: 'open', lastStatusCode: 400 });
    expect(raised!.env).toMatchObject({ HOOK_ALERT_ID: String(alert!.id), HOOK_ALERT_KIND: 'dead', HOOK_ALERT_ACTION: 'trigger', HOOK_ALERT_SUBJECT: 'zendesk', HOOK_ATTEMPT: '1' });
    expect(Object.keys(raised!.env!)).not.toContain('HOOK_EVENT_ID');
    expect(resolved!.alert).toMatchObject({ action: 'resolve', status: 'resolved' });

    // module: its own deliverAlert, with what it returned kept on the delivery.
    expect(lines(moduleOut)).toEqual([
      { action: 'trigger', kind: 'dead', summary: 'zendesk: 1 delivery gave up (dead)' },
      { action: 'resolve', kind: 'dead', summary: 'zendesk: 1 delivery gave up (dead)' },
    ]);
    expect((await app.ctx.storage.listDeliveries({ handler: 'mine' }, { limit: 10 })).map((row) => [row.status, row.externalId])).toEqual([
      ['succeeded', `mine-${alert!.id}-resolve`],
      ['succeeded', `mine-${alert!.id}-trigger`],
    ]);

    // log: one line each, the title as the message and the alert's fields beside it.
    const alertLines = () =>
      app
        .logs()
        .split('\n')
        .filter((line) => line.includes('"handler":"audit"') && line.includes('"alert":'))
        .map((line) => JSON.parse(line) as { msg: string; alert: Record<string, unknown> });
    const logged = await waitFor(() => (alertLines().length === 2 ? alertLines() : undefined), 10_000, 'both log lines');
    expect(logged.map((line) => line.msg)).toEqual(['Alert: zendesk: 1 delivery gave up (dead)', 'Resolved: zendesk: 1 delivery gave up (dead)']);
    expect(logged[0]!.alert).toMatchObject({ id: alert!.id, kind: 'dead', action: 'trigger', lastStatusCode: 400 });
  });

  it('refuses to start with a module named in alerts.notify that has no deliverAlert', async () => {
    const dir = tempDir('chatlio-relay-alert-module-');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'events-only.mjs'), 'export default { async deliver() { return { ok: true }; } };');
    const app = await createDispatchApp(
      {
        handlers: [
          { name: 'zendesk', type: 'http', events: '*', options: { url: 'http://127.0.0.1:9/x' } },
          { name: 'mine', type: 'module', options: { path: join(dir, 'events-only.mjs') } },
        ],
        alerts: { notify: ['mine'] },
      },
      { start: false },
    );
    cleanups.push(app.close);
    await expect(app.worker.start()).rejects.toThrow('handler mine is named in alerts.notify but has no deliverAlert(notice, ctx)');
  });
});
