import { describe, expect, it } from 'vitest';
import { matchesRule, matchesWhen, fieldAt } from '../../src/dispatch/rules.js';
import { classifyStatus, decide, parseRetryAfter, defaultRetryPolicy } from '../../src/dispatch/retry.js';

const transcript = {
  chatRating: 'down',
  extraData: ['urgent', 'vip'],
  visitorEmail: '',
  visitor: { email: 'ann@acme.test', currentPage: 'https://acme.test/pricing', name: null },
  messages: [{ text: 'hello' }],
};

describe('when conditions', () => {
  it('reads dotted paths, array indexes included, and nothing from the prototype', () => {
    expect(fieldAt(transcript, 'visitor.email')).toBe('ann@acme.test');
    expect(fieldAt(transcript, 'messages.0.text')).toBe('hello');
    expect(fieldAt(transcript, 'visitor.missing.deeper')).toBeUndefined();
    expect(fieldAt(transcript, 'constructor')).toBeUndefined();
  });

  it.each([
    [{ chatRating: 'down' }, true],
    [{ chatRating: 'up' }, false],
    [{ chatRating: { equals: 'down' } }, true],
    [{ chatRating: { in: ['down', 'meh'] } }, true],
    [{ extraData: { contains: 'urgent' } }, true],
    [{ extraData: { contains: 'urg' } }, false],
    [{ 'visitor.currentPage': { contains: '/pricing' } }, true],
    [{ 'visitor.email': { exists: true } }, true],
    [{ visitorEmail: { exists: true } }, false],
    [{ 'visitor.name': { exists: false } }, true],
    [{ 'visitor.email': { endsWith: '@acme.test' } }, true],
    [{ 'visitor.currentPage': { startsWith: 'https://acme.test/' } }, true],
    [{ 'visitor.email': { matches: '/^ANN@/i' } }, true],
    [{ 'visitor.email': { matches: '^bob' } }, false],
    [{ chatRating: 'down', 'visitor.email': { endsWith: '@other.test' } }, false],
    [{ 'visitor.name': { startsWith: 'A' } }, false],
  ])('%j → %s', (when, expected) => {
    expect(matchesWhen(when, transcript)).toBe(expected);
  });

  it('routes by type first, "*" taking every type', () => {
    expect(matchesRule({ events: ['feedback'] }, 'transcript', transcript)).toBe(false);
    expect(matchesRule({ events: '*', when: { chatRating: 'down' } }, 'transcript', transcript)).toBe(true);
  });
});

describe('retry policy', () => {
  it('treats 2xx as success, 408/409/425/429 and 5xx as retry, other 4xx as dead', () => {
    expect([200, 201, 204].map(classifyStatus)).toEqual(['success', 'success', 'success']);
    expect([408, 409, 425, 429, 500, 502, 503, 301].map(classifyStatus)).toEqual(Array(8).fill('retry'));
    expect([400, 401, 403, 404, 410, 422].map(classifyStatus)).toEqual(Array(6).fill('dead'));
  });

  it('reads Retry-After as seconds or an HTTP date, capped at a day', () => {
    const now = Date.parse('2026-11-25T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('999999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('follows the schedule with jitter, honours a longer Retry-After, and ends dead after the last retry', () => {
    const policy = defaultRetryPolicy();
    const failed = { ok: false, statusCode: 503 };
    expect(decide(failed, 1, policy, { random: () => 0.5 })).toEqual({ status: 'failed', delayMs: 5000 });
    expect(decide(failed, 1, policy, { random: () => 0 })).toEqual({ status: 'failed', delayMs: 4500 });
    expect(decide(failed, 2, policy, { random: () => 1 })).toEqual({ status: 'failed', delayMs: 330_000 });
    expect(decide({ ...failed, retryAfterMs: 60_000 }, 1, policy, { random: () => 0.5 })).toEqual({ status: 'failed', delayMs: 60_000 });
    expect(decide(failed, 10, policy)).toEqual({ status: 'dead' });
    expect(decide({ ok: false, statusCode: 404 }, 1, policy)).toEqual({ status: 'dead' });
    expect(decide({ ok: false }, 1, policy, { manual: true })).toEqual({ status: 'dead' });
    expect(decide({ ok: true, statusCode: 200 }, 10, policy)).toEqual({ status: 'succeeded' });
  });
});
