// Pages rendered from plain data: visitor content comes out as text, never markup, and only http(s) URLs become links.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventType } from '../../src/chatlio/index.js';
import type { Attempt, Delivery, EventRow } from '../../src/store/storage.js';
import { renderPage } from '../../src/ui/render.js';
import { viewEvent, safeHref } from '../../src/ui/payload.js';
import { InboxPage } from '../../src/ui/pages/inbox.js';
import { EventPage } from '../../src/ui/pages/event.js';
import { ConversationPage } from '../../src/ui/pages/conversation.js';
import { StatsPage, histogram, median } from '../../src/ui/pages/stats.js';
import { sanitisedDocument } from '../../src/ui/html-body.js';
import { readFilters, filterQuery } from '../../src/ui/filters.js';
import { fixturePath } from '../helpers/app.js';

const hostile = readFileSync(fixturePath('valid/transcript/html-in-text.json'));

function eventRow(type: EventType, raw: Buffer, seq = 1): EventRow {
  const payload = JSON.parse(raw.toString()) as { conversationUUID?: string; visitor?: { UUID?: string; name?: string } };
  return {
    seq,
    id: `evt_${String(seq).padStart(10, '0')}`,
    type,
    receivedAt: Date.UTC(2026, 10, 30, 12, 0),
    raw,
    conversationUUID: payload.conversationUUID ?? null,
    visitorUUID: payload.visitor?.UUID ?? null,
    visitorEmail: null,
    visitorName: payload.visitor?.name ?? null,
    rating: 'up',
  };
}

const emptyForm = { type: '', rating: '', tag: '', q: '', visitor: '', from: '', to: '', deliveryStatus: '', handler: '' } as const;

/** Every tag name in the HTML, to check that no visitor string became an element. */
const tagsIn = (html: string) => new Set([...html.matchAll(/<([a-z][a-z0-9-]*)/g)].map((match) => match[1]));

describe('rendering visitor content', () => {
  const row = eventRow('transcript', hostile);
  const view = viewEvent(row);

  it('shows HTML typed by a visitor in the inbox as literal text and creates no element from it', () => {
    const html = renderPage(InboxPage({ csrfToken: 't', form: emptyForm, handlers: ['forward'], rows: [{ row, view, deliveries: null }], next: null, paged: false, errors: [] }));
    expect(html).toContain('&lt;b onmouseover=alert(3)>Mallory&lt;/b>');
    expect(html).not.toMatch(/<script>alert|<img src=x|<b onmouseover/);
    expect(tagsIn(html).has('img')).toBe(false);
    expect(tagsIn(html).has('b')).toBe(false);
  });

  it('shows the messages and raw bytes of a hostile transcript as text on the event page', () => {
    const html = renderPage(EventPage({ csrfToken: 't', row, view, deliveries: [], otherHandlers: [] }));
    expect(html).toContain('Hi &lt;script>alert(1)&lt;/script>');
    expect(html).not.toMatch(/<script>alert|<iframe src="javascript/);
    expect(html).toContain(`<iframe class="html-body" sandbox src="/ui/events/${row.id}/html"`);
    // The one script tag is ours, loaded from our origin.
    expect([...html.matchAll(/<script/g)]).toHaveLength(1);
    expect(html).toContain('<script type="module" src="/ui/assets/app.js');
  });

  it('links a visitor page only when it is http(s), with noopener noreferrer', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('https://example.com/a?b')).toBe('https://example.com/a?b');
    const visitor = { ...view.visitor, currentPage: 'javascript:alert(1)', referrer: 'https://example.com/from' };
    const html = renderPage(ConversationPage({ csrfToken: 't', uuid: 'c', events: [], messages: view.messages, visitor, rating: null, earlier: [] }));
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('<span>javascript:alert(1)</span>');
    expect(html).toContain('href="https://example.com/from" rel="noopener noreferrer"');
  });

  it('puts no inline style or script attribute on any page', () => {
    const pages = [
      renderPage(InboxPage({ csrfToken: 't', form: emptyForm, handlers: ['forward'], rows: [{ row, view, deliveries: null }], next: 5, paged: true, errors: ['x'] })),
      renderPage(EventPage({ csrfToken: 't', row, view, deliveries: [], otherHandlers: ['slack'] })),
      renderPage(StatsPage({ csrfToken: 't', from: '2026-11-01', to: '2026-11-02', days: [{ day: '2026-11-01', byType: { transcript: 2, 'offline-message': 0, 'conversation-started': 1, unanswered: 0, feedback: 0 }, total: 3 }], ratings: { up: 1, down: 1 }, firstResponseSeconds: [10, 70], deliveries: { pending: 0, running: 0, failed: 0, succeeded: 3, dead: 1, cancelled: 0 } })),
    ];
    for (const html of pages) {
      expect(html).not.toMatch(/<[a-z][^<>]*\sstyle=/);
      expect(html).not.toMatch(/<[a-z][^<>]*\son[a-z]+=/);
    }
  });
});

describe('the sanitised htmlBody', () => {
  it('keeps the text and harmless tags and drops every script, handler, frame and javascript: URL', () => {
    const body = (JSON.parse(hostile.toString()) as { htmlBody: string }).htmlBody;
    const html = sanitisedDocument(`${body}<a href="javascript:alert(5)">x</a><a href="https://example.com">ok</a><style>p{}</style><svg onload=alert(6)>`);
    expect(html).toContain('<b>costa-mesa-california-us</b>');
    expect(html).not.toMatch(/<script|onerror|onload|<iframe|javascript:|<style|<svg|<img/i);
    expect(html).toContain('<a href="https://example.com" rel="noopener noreferrer">ok</a>');
  });
});

describe('inbox filters in the URL', () => {
  it('reads type, rating, tag, search and an inclusive date range', () => {
    const { filter, errors } = readFilters({ type: 'transcript', rating: 'down', tag: ' VIP ', q: '"refund please" ord*', from: '2026-11-01', to: '2026-11-02' });
    expect(errors).toEqual([]);
    expect(filter).toEqual({
      types: ['transcript'],
      rating: 'down',
      tag: 'vip',
      search: [{ tokens: ['refund', 'please'], prefix: false }, { tokens: ['ord'], prefix: true }],
      since: Date.UTC(2026, 10, 1),
      until: Date.UTC(2026, 10, 3),
    });
  });

  it('reads a delivery status, for one handler or any', () => {
    expect(readFilters({ deliveryStatus: 'dead', handler: 'zendesk' })).toMatchObject({ filter: { delivery: { status: 'dead', handler: 'zendesk' } }, errors: [] });
    expect(readFilters({ deliveryStatus: 'failed' })).toMatchObject({ filter: { delivery: { status: 'failed' } }, errors: [] });
    expect(filterQuery({ ...emptyForm, deliveryStatus: 'dead', handler: 'zendesk' })).toBe('?deliveryStatus=dead&handler=zendesk');
  });

  it('names each bad value instead of ignoring it', () => {
    const { errors } = readFilters({ type: 'email', rating: 'meh', from: '2026-02-30', q: '***', deliveryStatus: 'lost' });
    expect(errors).toHaveLength(5);
    expect(readFilters({ handler: 'zendesk' }).errors).toEqual(['choose a delivery status to filter by handler']);
  });

  it('carries the delivery filter into the form, the live count, the pages and the export, keeping a handler no longer configured', () => {
    const row = eventRow('transcript', hostile, 7);
    const form = { ...emptyForm, deliveryStatus: 'dead', handler: 'retired' } as const;
    const html = renderPage(InboxPage({ csrfToken: 't', form, handlers: ['forward'], rows: [{ row, view: viewEvent(row), deliveries: null }], next: 3, paged: false, errors: [] }));
    expect(html).toMatch(/<option value="dead" selected>/);
    expect(html).toMatch(/<option value="forward">forward<\/option><option value="retired" selected>retired<\/option>/);
    expect(html).toContain(`data-live="/ui/live?deliveryStatus=dead&amp;handler=retired&amp;after=${row.id}"`);
    expect(html).toContain('href="/ui?deliveryStatus=dead&amp;handler=retired&amp;before=3"');
    expect(html).toContain('href="/ui/export?deliveryStatus=dead&amp;handler=retired&amp;format=csv"');
  });

  it('writes only the fields that are set into links', () => {
    expect(filterQuery({ ...emptyForm, tag: 'vip' }, { before: '9' })).toBe('?tag=vip&before=9');
    expect(filterQuery(emptyForm)).toBe('');
  });
});

describe('stats', () => {
  it('takes the median and buckets first-response times', () => {
    expect(median([])).toBeNull();
    expect(median([30, 10, 20, 40])).toBe(25);
    expect(histogram([5, 45, 61, 4000]).map((bucket) => bucket.n)).toEqual([1, 1, 1, 0, 0, 1]);
  });
});

describe('the one place raw HTML may enter a page', () => {
  it('has no dangerouslySetInnerHTML anywhere in src/ui (htmlBody is served from its own sandboxed route instead)', () => {
    const root = join(import.meta.dirname, '..', '..', 'src', 'ui');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
    const offenders = files(root).filter((file) => /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('defect 1 in the inbox: text is cut on whole characters', () => {
  // One of each parity, so a cut after any number of UTF-16 units lands inside an emoji of one of them.
  const EMOJI_TEXTS = [['😀'.repeat(700)], [`a${'😀'.repeat(700)}`]];
  const row = eventRow('transcript', hostile);

  it.each(EMOJI_TEXTS)("shows the start of an attempt's stored response without half an emoji", (response) => {
    const delivery: Delivery = {
      id: 'dlv_0000000001', seq: 1, eventId: row.id, eventSeq: row.seq, alertId: null, alertAction: null, handler: 'forward', status: 'failed',
      attempts: 1, dueAt: null, createdAt: 0, updatedAt: 0, manual: false, lastError: null, lastStatusCode: 500, externalId: null, state: null, cancelledBy: null,
    };
    const attempt: Attempt = { attempt: 1, startedAt: 0, durationMs: 5, outcome: 'failed', statusCode: 500, error: 'HTTP 500', response };
    const html = renderPage(EventPage({ csrfToken: 't', row, view: viewEvent(row), deliveries: [{ delivery, attempts: [attempt] }], otherHandlers: [] }));
    expect(html).not.toMatch(/\p{Cs}/u);
    expect(html).toMatch(/😀…<\/pre>/);
  });

  it.each(EMOJI_TEXTS)('keeps a long search or tag from the URL on a whole emoji', (text) => {
    const { form } = readFilters({ q: text, tag: text, visitor: text, handler: text });
    for (const value of [form.q, form.tag, form.visitor, form.handler]) expect(value).not.toMatch(/\p{Cs}/u);
  });
});
