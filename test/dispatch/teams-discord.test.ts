import { describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp, QUICK_RETRY } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { discordAnswer, teamsAnswer } from '../helpers/chat-apps.js';
import { teamsOutcome } from '../../src/dispatch/handlers/teams.js';
import { cleanupAfterEach, closedAfter } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

const sink = async (respond?: Sink['respond']): Promise<Sink> => closedAfter(cleanups, await startSink(respond));
const relay = async (handlers: unknown[]): Promise<DispatchApp> => closedAfter(cleanups, await createDispatchApp({ retry: QUICK_RETRY, handlers }));

const json = (remote: Sink, index = 0) => JSON.parse(remote.requests[index]!.body.toString()) as Record<string, unknown>;

/** What a visitor might type to format, link or ping in a chat app. */
const HOSTILE = 'Hi **bold** [click](https://evil.test) <at>General</at> <@123> @everyone\n# Big\n> quoted';

type Element = { type: string; inlines?: Array<Record<string, unknown>>; [key: string]: unknown };

describe('teams handler', () => {
  it('posts an Adaptive Card whose every text is a literal TextRun, so visitor text cannot format or mention', async () => {
    const remote = await sink(teamsAnswer);
    const app = await relay([{ name: 'teams', type: 'teams', events: '*', options: { webhookUrl: `${remote.url}/workflows/run` } }]);
    const [delivery] = await app.settled(await app.post('conversation-started', payload('conversation-started', { message: HOSTILE })));
    // The local Teams took it as a valid message (else 400, and the delivery dead).
    expect(delivery).toMatchObject({ status: 'succeeded', lastStatusCode: 200 });
    const body = json(remote);
    expect(body.type).toBe('message');
    const [attachment] = body.attachments as Array<Record<string, unknown>>;
    expect(attachment).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive' });
    const card = attachment!.content as { type: string; version: string; body: Element[]; msteams?: unknown };
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    // No mention entities, and no element that renders markdown (TextBlock, FactSet): only RichTextBlocks of TextRuns.
    expect(card.msteams).toBeUndefined();
    expect(new Set(card.body.map((element) => element.type))).toEqual(new Set(['RichTextBlock']));
    const runs = card.body.flatMap((element) => element.inlines!);
    expect(new Set(runs.map((run) => run.type))).toEqual(new Set(['TextRun']));
    const texts = runs.map((run) => run.text as string);
    expect(texts[0]).toBe('New chat from united-states-27');
    expect(texts).toEqual(expect.arrayContaining(['Page: ', 'http://yoursite.com/signup', 'Hi **bold** [click](https://evil.test) <at>General</at> <@123> @everyone', '# Big', '> quoted']));
  });

  it('shows a transcript’s first messages with who said them, and a button to the Slack archive', async () => {
    const remote = await sink(teamsAnswer);
    const app = await relay([{ name: 'teams', type: 'teams', events: '*', options: { webhookUrl: remote.url, title: { transcript: 'Done: {{who}}' } } }]);
    expect((await app.settled(await app.post('transcript', payload('transcript'))))[0]).toMatchObject({ status: 'succeeded' });
    const card = (json(remote).attachments as Array<{ content: { body: Element[]; actions: unknown[] } }>)[0]!.content;
    const texts = card.body.flatMap((element) => element.inlines!.map((run) => run.text));
    expect(texts[0]).toBe('Done: costa-mesa-california-us-133');
    expect(texts).toEqual(expect.arrayContaining(['Visitor: Hi! I love your webhooks!', 'Some O.: Great, thanks for letting us know!', 'Some One']));
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Slack', url: 'https://yourcompany.slack.com/archives/cl-tiger128' }]);
  });

  it('reads the status a legacy connector hides in a 200 answer: a 429 in the text is retried, a 413 is dead', async () => {
    const refusal = (status: number) => ({
      status: 200,
      body: `Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error ${status} with ContextId tcid=0,server=msgapi..`,
    });
    const limited = await sink((request, index) => (index === 0 ? refusal(429) : teamsAnswer(request)));
    const app = await relay([{ name: 'teams', type: 'teams', events: '*', options: { webhookUrl: limited.url } }]);
    const [retried] = await app.settled(await app.post('unanswered', payload('unanswered')));
    expect(retried).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await app.ctx.storage.attempts(retried!.seq))[0]).toMatchObject({ statusCode: 429 });

    const oversized = await sink(() => refusal(413));
    const other = await relay([{ name: 'teams', type: 'teams', events: '*', options: { webhookUrl: oversized.url } }]);
    const [dead] = await other.settled(await other.post('unanswered', payload('unanswered')));
    expect(dead).toMatchObject({ status: 'dead', attempts: 1, lastStatusCode: 413 });
  });
});

describe('discord handler', () => {
  it('posts an embed that pings nobody and shows visitor markup and mentions as typed', async () => {
    const remote = await sink(discordAnswer);
    const app = await relay([{ name: 'discord', type: 'discord', events: '*', options: { webhookUrl: `${remote.url}/api/webhooks/1/tok`, username: 'Chatlio' } }]);
    const [delivery] = await app.settled(await app.post('unanswered', payload('unanswered', { message: HOSTILE })));
    expect(delivery).toMatchObject({ status: 'succeeded', lastStatusCode: 204 });
    const body = json(remote);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.username).toBe('Chatlio');
    const [embed] = body.embeds as Array<Record<string, unknown>>;
    expect(embed).toMatchObject({ title: 'Nobody has answered united-states-27', color: 0xdc2626 });
    expect(embed!.description).toBe(
      '> Hi \\*\\*bold\\*\\* \\[click\\](https://evil.test) \\<at>General\\</at> \\<@123> @\u200beveryone\n> \\# Big\n> \\> quoted',
    );
    expect(embed!.fields).toEqual([
      { name: 'Visitor', value: 'united-states-27', inline: true },
      { name: 'Page', value: 'http://yoursite.com/signup', inline: true },
      { name: 'Location', value: 'Los Angeles, California, United States', inline: true },
    ]);
  });

  it('keeps a long transcript within Discord’s limits and links the title to the Slack archive', async () => {
    const remote = await sink(discordAnswer);
    const app = await relay([{ name: 'discord', type: 'discord', events: '*', options: { webhookUrl: remote.url } }]);
    const messages = Array.from({ length: 40 }, (_, index) => ({ text: `${'*'.repeat(400)} line ${index}`, isVisitorMsg: index % 2 === 0, username: 'agent' }));
    const [delivery] = await app.settled(await app.post('transcript', payload('transcript', { messages, agentName: '@everyone '.repeat(200) })));
    expect(delivery).toMatchObject({ status: 'succeeded' });
    const [embed] = json(remote).embeds as Array<Record<string, unknown>>;
    expect(embed!.url).toBe('https://yourcompany.slack.com/archives/cl-tiger128');
    expect(embed!.description).toMatch(/… 35 more$/);
  });

  it('retries a 429 after Discord’s Retry-After', async () => {
    const remote = await sink((request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '0' }, body: '{"message":"You are being rate limited.","retry_after":0.01,"global":false}' } : discordAnswer(request),
    );
    const app = await relay([{ name: 'discord', type: 'discord', events: '*', options: { webhookUrl: remote.url } }]);
    const [delivery] = await app.settled(await app.post('feedback', payload('feedback', {}, 'rating-fields')));
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((json(remote, 1).embeds as Array<{ description: string }>)[0]!.description).toBe('> Took too long to get an answer.');
  });
});

/** Every string anywhere in a JSON value. */
const stringsIn = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(stringsIn) : [];
/** Half of a surrogate pair: what a cut on UTF-16 units leaves of an emoji (sent as U+FFFD). */
const LONE_SURROGATE = /\p{Cs}/u;
/** Long texts of emoji, one of each parity, so a cut after any number of UTF-16 units lands inside one of them. */
const EMOJI_TEXTS = ['😀'.repeat(700), `a${'😀'.repeat(700)}`];

describe('defect 1 in chat cards: a long text is cut on whole characters', () => {
  it.each(EMOJI_TEXTS.map((text, parity) => [parity, text]))('discord: title, fields and lines never end in half an emoji (parity %i)', async (_parity, text) => {
    const remote = await sink(discordAnswer);
    const app = await relay([{ name: 'discord', type: 'discord', events: '*', options: { webhookUrl: remote.url, title: '{{message}}' } }]);
    const [delivery] = await app.settled(await app.post('unanswered', payload('unanswered', { message: text, visitor: { name: text } })));
    expect(delivery).toMatchObject({ status: 'succeeded' });
    const strings = stringsIn(json(remote));
    expect(strings.filter((value) => LONE_SURROGATE.test(value))).toEqual([]);
    expect(strings.filter((value) => value.endsWith('😀…'))).not.toEqual([]);
  });

  it.each(EMOJI_TEXTS.map((text, parity) => [parity, text]))('teams: title and lines never end in half an emoji (parity %i)', async (_parity, text) => {
    const remote = await sink(teamsAnswer);
    const app = await relay([{ name: 'teams', type: 'teams', events: '*', options: { webhookUrl: remote.url, title: '{{message}}' } }]);
    const [delivery] = await app.settled(await app.post('unanswered', payload('unanswered', { message: text })));
    expect(delivery).toMatchObject({ status: 'succeeded' });
    const strings = stringsIn(json(remote));
    expect(strings.filter((value) => LONE_SURROGATE.test(value))).toEqual([]);
    expect(strings.filter((value) => value.endsWith('😀…'))).not.toEqual([]);
  });

  it.each(EMOJI_TEXTS.map((text, parity) => [parity, text]))("teams: the error kept from a refusal in a 200 answer is cut on a whole emoji (parity %i)", (_parity, text) => {
    const outcome = teamsOutcome({ ok: true, statusCode: 200, body: `Webhook message delivery failed with error: ${text}` });
    expect(outcome.ok).toBe(false);
    expect(outcome.error).not.toMatch(LONE_SURROGATE);
    expect(outcome.error).toMatch(/😀…$/);
  });
});
