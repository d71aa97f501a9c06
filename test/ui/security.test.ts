// The small security decisions of the web inbox, each on its own: where sign-in may send you, which posts count as
// ours, which cookie values are read, when wrong tokens lock an address out.
import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { fromOwnPage, safeNext } from '../../src/ui/plugin.js';
import { sessionCookie, sessionIdFrom, SESSION_COOKIE } from '../../src/ui/session.js';
import { signInThrottle } from '../../src/ui/throttle.js';
import { PAGE_CSP } from '../../src/ui/headers.js';

const request = (headers: Record<string, string>) => ({ headers: { host: 'inbox.example:8080', ...headers } }) as unknown as FastifyRequest;

describe('after sign-in', () => {
  it('goes back only to a page of the inbox, never to another site', () => {
    expect(safeNext('/ui/events/evt_1?x=1')).toBe('/ui/events/evt_1?x=1');
    expect(safeNext('/ui')).toBe('/ui');
    for (const bad of ['//evil.example/ui', 'https://evil.example/ui', '/ui\\@evil', '/uix', '/api/events', '/ui/ x', 42, undefined]) {
      expect(safeNext(bad)).toBe('/ui');
    }
  });
});

describe('a form post', () => {
  it('counts as ours when Origin names this host, or without Origin when Sec-Fetch-Site says same-origin', () => {
    expect(fromOwnPage(request({ origin: 'https://inbox.example:8080' }))).toBe(true);
    expect(fromOwnPage(request({ 'sec-fetch-site': 'same-origin' }))).toBe(true);
    expect(fromOwnPage(request({}))).toBe(true);
  });

  it('is refused from another origin, an opaque origin or a cross-site fetch', () => {
    expect(fromOwnPage(request({ origin: 'https://evil.example' }))).toBe(false);
    expect(fromOwnPage(request({ origin: 'https://inbox.example:8081' }))).toBe(false);
    expect(fromOwnPage(request({ origin: 'null' }))).toBe(false);
    expect(fromOwnPage(request({ origin: 'not a url' }))).toBe(false);
    expect(fromOwnPage(request({ 'sec-fetch-site': 'cross-site' }))).toBe(false);
    expect(fromOwnPage(request({ 'sec-fetch-site': 'same-site' }))).toBe(false);
  });
});

describe('the session cookie', () => {
  it('is a __Host- cookie: Secure, Path=/, no Domain, HttpOnly, SameSite=Strict, 12 hours', () => {
    const cookie = sessionCookie('a'.repeat(43));
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    expect(SESSION_COOKIE.startsWith('__Host-')).toBe(true);
    expect(cookie).toContain('; Path=/;');
    expect(cookie).not.toMatch(/domain=/i);
    expect(cookie).toMatch(/; HttpOnly; Secure; SameSite=Strict$/);
    expect(cookie).toContain('Max-Age=43200');
  });

  it('is read only when its value has the shape of our ids', () => {
    const id = 'A'.repeat(43);
    expect(sessionIdFrom(`other=1; ${SESSION_COOKIE}=${id}`)).toBe(id);
    expect(sessionIdFrom(`${SESSION_COOKIE}=short`)).toBeUndefined();
    expect(sessionIdFrom(`${SESSION_COOKIE}=${'A'.repeat(42)}'`)).toBeUndefined();
    expect(sessionIdFrom(undefined)).toBeUndefined();
  });
});

describe('wrong tokens', () => {
  it('lock an address out after the limit until the window has passed, without touching other addresses', () => {
    const throttle = signInThrottle({ maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i += 1) throttle.failed('10.0.0.1', 1000);
    expect(throttle.retryAfterSeconds('10.0.0.1', 2000)).toBe(59);
    expect(throttle.retryAfterSeconds('10.0.0.2', 2000)).toBe(0);
    expect(throttle.retryAfterSeconds('10.0.0.1', 61_000)).toBe(0);
  });

  it('are forgotten after a successful sign-in', () => {
    const throttle = signInThrottle({ maxFailures: 2, windowMs: 60_000 });
    throttle.failed('10.0.0.1', 0);
    throttle.succeeded('10.0.0.1');
    throttle.failed('10.0.0.1', 0);
    expect(throttle.retryAfterSeconds('10.0.0.1', 0)).toBe(0);
  });
});

describe('the page CSP', () => {
  it('allows no inline script or style and no framing', () => {
    expect(PAGE_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  });
});
