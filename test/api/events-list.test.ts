import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, apiHeaders, createTestApp, type TestApp } from '../helpers/app.js';
import { notification, offlineMessage, store, transcript, visitor, type Seeded } from './seed.js';

let t: TestApp;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();
const ann = visitor('uuid-ann', 'Ann@Example.com', 'Ann Lee');
const bob = visitor('uuid-bob', '', 'Bob');
const cara = visitor('uuid-cara', 'cara@example.com', 'Cara');
const e: Seeded[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const seed = [
    ['conversation-started', notification('conv-1', ann, 'Hello, I need help with my invoice'), 0],
    ['transcript', transcript({ conversation: 'conv-1', visitor: ann, texts: ['Hello, I need help with my invoice', 'Sure, which invoice number?', 'Invoice 42 please'], rating: 'up', tags: ['billing', 'VIP'] }), 1],
    ['feedback', { ...notification('conv-1', ann), chatRating: 'up', chatFeedback: 'Great help' }, 2],
    ['conversation-started', notification('conv-2', bob, 'Is the widget broken?'), 3],
    ['unanswered', notification('conv-2', bob), 4],
    ['transcript', transcript({ conversation: 'conv-2', visitor: bob, texts: ['Is the widget broken?', 'Yes, we are fixing the widgetry'], rating: 'down', feedback: 'slow answer', tags: ['bug'] }), 5],
    ['offline-message', offlineMessage(cara, 'Refund request', 'Please refund my order'), 24],
    ['transcript', transcript({ conversation: 'conv-3', visitor: cara, texts: ['Où est ma commande?'] }), 48],
    ['feedback', { ...notification('conv-2', bob), chatRating: 'down', chatFeedback: 'still broken' }, 49],
  ] as const;
  for (const [type, body, hours] of seed) e.push(await store(t.ctx, type, body, T0 + hours * HOUR));
});
afterAll(async () => {
  await t?.close();
});

type Page = { data: Array<{ id: string; type: string; summary: string; visitor: { email: string | null } }>; nextCursor: string | null };

async function list(query: string) {
  const response = await t.app.inject({ url: `/api/events?${query}`, headers: apiHeaders });
  return response;
}

/** The 1-based seed numbers the query returns, in order. */
async function numbers(query: string): Promise<number[]> {
  const response = await list(query);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Page>().data.map((event) => e.findIndex((seeded) => seeded.id === event.id) + 1);
}

describe('GET /api/events filters', () => {
  it('lists every event newest first without filters', async () => {
    expect(await numbers('')).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('filters by one type, by repeated types and by comma-separated types', async () => {
    expect(await numbers('type=transcript')).toEqual([8, 6, 2]);
    expect(await numbers('type=feedback&type=unanswered')).toEqual([9, 5, 3]);
    expect(await numbers('type=transcript,feedback')).toEqual([9, 8, 6, 3, 2]);
  });

  it('filters by conversation', async () => {
    expect(await numbers('conversation=conv-1')).toEqual([3, 2, 1]);
  });

  it('filters by visitor UUID, and by email case-insensitively', async () => {
    expect(await numbers('visitor=uuid-bob')).toEqual([9, 6, 5, 4]);
    expect(await numbers('visitor=ANN%40example.COM')).toEqual([3, 2, 1]);
  });

  it('filters by rating', async () => {
    expect(await numbers('rating=down')).toEqual([9, 6]);
    expect(await numbers('rating=up')).toEqual([3, 2]);
  });

  it('filters by a transcript tag case-insensitively', async () => {
    expect(await numbers('tag=billing')).toEqual([2]);
    expect(await numbers('tag=vip')).toEqual([2]);
    expect(await numbers('tag=BUG')).toEqual([6]);
    expect(await numbers('tag=nothing')).toEqual([]);
  });

  it('filters by since (inclusive) and until (exclusive), as date-times or dates', async () => {
    expect(await numbers(`since=${at(5)}`)).toEqual([9, 8, 7, 6]);
    expect(await numbers(`until=${at(5)}`)).toEqual([5, 4, 3, 2, 1]);
    expect(await numbers(`since=${at(1)}&until=${at(3)}`)).toEqual([3, 2]);
    expect(await numbers('since=2026-01-02')).toEqual([9, 8, 7]);
    expect(await numbers(`since=${encodeURIComponent('2026-01-01T01:00:00+01:00')}&until=${at(1)}`)).toEqual([1]);
  });

  it('searches message texts, feedback, offline messages and visitor names', async () => {
    expect(await numbers('q=invoice')).toEqual([2, 1]);
    expect(await numbers('q=widget')).toEqual([6, 4]);
    expect(await numbers('q=slow')).toEqual([6]);
    expect(await numbers('q=still')).toEqual([9]);
    expect(await numbers('q=refund')).toEqual([7]);
    expect(await numbers('q=lee')).toEqual([3, 2, 1]);
    expect(await numbers('q=cara%40example.com')).toEqual([8, 7]);
  });

  it('searches phrases in double quotes and prefixes with a trailing *', async () => {
    expect(await numbers(`q=${encodeURIComponent('"invoice number"')}`)).toEqual([2]);
    expect(await numbers(`q=${encodeURIComponent('"invoice which"')}`)).toEqual([]);
    expect(await numbers('q=widgetr')).toEqual([]);
    expect(await numbers(`q=${encodeURIComponent('widgetr*')}`)).toEqual([6]);
    expect(await numbers(`q=${encodeURIComponent('invoice 42')}`)).toEqual([2]);
  });

  it('matches words regardless of accents and case', async () => {
    expect(await numbers('q=OU')).toEqual([8]);
    expect(await numbers(`q=${encodeURIComponent('commande')}`)).toEqual([8]);
  });

  it('combines filters so that all must match', async () => {
    expect(await numbers('type=transcript&rating=down')).toEqual([6]);
    expect(await numbers('visitor=uuid-bob&q=broken')).toEqual([9, 6, 4]);
    expect(await numbers('conversation=conv-2&q=widget&type=transcript')).toEqual([6]);
    expect(await numbers('tag=billing&q=invoice')).toEqual([2]);
    expect(await numbers('tag=bug&rating=up')).toEqual([]);
    expect(await numbers(`q=invoice&since=${at(1)}`)).toEqual([2]);
    expect(await numbers('conversation=conv-2&type=feedback')).toEqual([9]);
    expect(await numbers(`type=transcript&since=${at(5)}&until=${at(48)}`)).toEqual([6]);
    expect(await numbers(`tag=bug&since=${at(6)}`)).toEqual([]);
    expect(await numbers(`rating=down&q=still&type=feedback&visitor=uuid-bob&conversation=conv-2&since=${at(0)}&until=${at(50)}`)).toEqual([9]);
  });
});

describe('GET /api/events pages', () => {
  it('walks every page with nextCursor, each event once, ending with null', async () => {
    const seen: number[] = [];
    let cursor: string | null = '';
    do {
      const response = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page: Page = response.json<Page>();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((event) => e.findIndex((seeded) => seeded.id === event.id) + 1));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('pages a filtered list too', async () => {
    const first = (await list('type=transcript&limit=2')).json<Page>();
    expect(first.data).toHaveLength(2);
    const second = (await list(`type=transcript&limit=2&cursor=${first.nextCursor}`)).json<Page>();
    expect(second.data.map((event) => event.id)).toEqual([e[1]!.id]);
    expect(second.nextCursor).toBeNull();
  });

  it('returns the event JSON with a one-line summary', async () => {
    const page = (await list('type=offline-message')).json<Page>();
    expect(page.data[0]).toMatchObject({ id: e[6]!.id, type: 'offline-message', visitor: { email: 'cara@example.com' } });
    expect(page.data[0]!.summary).toBe('Offline message from Cara <cara@example.com>: "Refund request"');
    const transcriptPage = (await list('tag=billing')).json<Page>();
    expect(transcriptPage.data[0]!.summary).toBe('Chat transcript: Ann Lee <Ann@Example.com>, 3 messages, rated up [billing VIP]');
  });
});

describe('GET /api/events refusals', () => {
  const bad: Array<[string, string]> = [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['type=chat-deleted', 'type'],
    ['rating=meh', 'rating'],
    ['since=yesterday', 'since'],
    ['until=2026-13-01', 'until'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('v1.-5').toString('base64url')}`, 'cursor'],
    ['q=', 'q'],
    [`q=${'a'.repeat(501)}`, 'q'],
    ['visitor=', 'visitor'],
  ];
  for (const [query, parameter] of bad) {
    it(`answers 400 naming ${parameter} for ${query.slice(0, 40)}`, async () => {
      const response = await list(query);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json<{ detail: string; errors: Array<{ path: string }> }>();
      expect(problem.errors.map((error) => error.path.split('.')[0])).toContain(parameter);
    });
  }

  it('answers 400 naming an unknown parameter', async () => {
    const response = await list('typ=transcript');
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('typ');
  });

  it('answers 401 without a token, with the webhook token, or with a wrong token', async () => {
    for (const authorization of [undefined, `Bearer ${WEBHOOK_TOKEN}`, 'Bearer nope-nope-nope-nope-nope-nope']) {
      const response = await t.app.inject({ url: '/api/events', headers: authorization ? { authorization } : {} });
      expect(response.statusCode).toBe(401);
    }
    const query = await t.app.inject({ url: `/api/events?token=${WEBHOOK_TOKEN}` });
    expect(query.statusCode).toBe(401);
    const ok = await t.app.inject({ url: '/api/events', headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(ok.statusCode).toBe(200);
  });
});

describe('hostile search strings', () => {
  const hostile = [
    'AND OR ( "',
    '"',
    '*',
    '**',
    'NEAR(',
    'NEAR(a b, 2)',
    'col:',
    'text:invoice',
    '{text}: invoice',
    '^invoice',
    'invoice -widget',
    'a OR b AND NOT c',
    '"unbalanced phrase',
    '""""',
    ')))(((',
    "'; DROP TABLE events; --",
    '\u0000',
    '😀 🤷‍♀️',
    'Z͑ͫ̓a͒̈̐l̉̉g̀́o̅̏',
    'ℌ𝔢𝔩𝔩𝔬',
    '\\',
    'x'.repeat(10_240),
    Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '),
    'invoice*"*',
  ];
  for (const q of hostile) {
    it(`answers 200 or 400, never 500, for q=${JSON.stringify(q.slice(0, 24))}`, async () => {
      const response = await list(`q=${encodeURIComponent(q)}`);
      expect([200, 400]).toContain(response.statusCode);
      if (response.statusCode === 400) expect(response.json<{ errors: Array<{ path: string }> }>().errors[0]!.path).toBe('q');
    });
  }

  it('treats FTS5 operators as plain words', async () => {
    expect(await numbers(`q=${encodeURIComponent('invoice OR widget')}`)).toEqual([]);
    expect(await numbers(`q=${encodeURIComponent('text:invoice')}`)).toEqual([]);
  });
});

describe('cursor walk while events arrive', () => {
  it('returns every event that existed before the walk exactly once, strictly newest first', async () => {
    const fresh = await createTestApp();
    try {
      const before: string[] = [];
      for (let i = 0; i < 120; i++) {
        const type = i % 3 === 0 ? 'unanswered' : 'conversation-started';
        before.push((await store(fresh.ctx, type, notification(`walk-${i}`, visitor(`v-${i}`), 'walking'))).id);
      }
      const expected = before.filter((_, i) => i % 3 !== 0).reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        // New events land between every page request, and during it.
        const [response] = await Promise.all([
          fresh.app.inject({ url: `/api/events?type=conversation-started&q=walking&limit=7${cursor ? `&cursor=${cursor}` : ''}`, headers: apiHeaders }),
          store(fresh.ctx, 'conversation-started', notification(`late-${inserted++}`, visitor('late'), 'walking')),
        ]);
        await store(fresh.ctx, 'conversation-started', notification(`late-${inserted++}`, visitor('late'), 'walking'));
        const page: Page = response.json<Page>();
        seen.push(...page.data.map((event) => event.id));
        cursor = page.nextCursor;
      } while (cursor);
      const preExisting = seen.filter((id) => before.includes(id));
      expect(preExisting).toEqual(expected);
      expect(new Set(seen).size).toBe(seen.length);
      for (let i = 1; i < seen.length; i++) expect(seen[i]! < seen[i - 1]!).toBe(true);
      expect(inserted).toBeGreaterThan(10);
    } finally {
      await fresh.close();
    }
  });
});
