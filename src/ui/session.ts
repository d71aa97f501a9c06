// Web inbox sessions: a random id in a __Host- cookie, stored only as its sha256 with a CSRF token and a fingerprint of
// the API token it was opened with, so rotating the token (or signing out) ends it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Storage, UiSession } from '../store/storage.js';

export const SESSION_COOKIE = '__Host-chatlio-session';
export const SESSION_MS = 12 * 60 * 60 * 1000;

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

/** What the stored session remembers of the API token: a digest, never the token. */
export const tokenFingerprint = (apiToken: string) => sha256Hex(`chatlio-relay web inbox\n${apiToken}`);

/** __Host- means Secure, Path=/ and no Domain; the server reads the cookie under /ui only (/api is bearer-only). */
export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${SESSION_MS / 1000}; HttpOnly; Secure; SameSite=Strict`;
}

export const clearedSessionCookie = `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;

/** The session id in a Cookie header, if it looks like one of ours. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value && /^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return undefined;
}

export function sessionStore(storage: Storage, apiToken: string) {
  const fingerprint = tokenFingerprint(apiToken);
  return {
    /** A new session; the returned id goes in the cookie and nowhere else. */
    async open(now = Date.now()): Promise<{ id: string; session: UiSession }> {
      const id = randomBytes(32).toString('base64url');
      const session: UiSession = {
        idHash: sha256Hex(id),
        csrfToken: randomBytes(32).toString('base64url'),
        tokenFingerprint: fingerprint,
        createdAt: now,
        expiresAt: now + SESSION_MS,
      };
      await storage.createSession(session);
      return { id, session };
    },

    /** The live session for a cookie's id: unexpired and opened with the API token in force now. */
    async find(id: string | undefined, now = Date.now()): Promise<UiSession | undefined> {
      if (!id) return undefined;
      const session = await storage.getSession(sha256Hex(id), now);
      return session?.tokenFingerprint === fingerprint ? session : undefined;
    },

    close: (session: UiSession) => storage.deleteSession(session.idHash),
    closeAll: () => storage.deleteAllSessions(),
  };
}

export type SessionStore = ReturnType<typeof sessionStore>;

/** Constant-time comparison of a posted CSRF token with the session's. */
export function csrfMatches(session: UiSession, posted: unknown): boolean {
  if (typeof posted !== 'string') return false;
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(posted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
