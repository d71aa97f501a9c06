// Web inbox sessions on PostgreSQL: a tiny table, written at sign-in and sign-out, read on every /ui request.
import type pg from 'pg';
import type { UiSession } from '../storage.js';

type Row = { id_hash: string; csrf_token: string; token_fingerprint: string; created_at: number; expires_at: number };

/** Stores a session; sign-ins are rare, so the expired rows are cleared in the same statement. */
export async function createSession(pool: pg.Pool, session: UiSession): Promise<void> {
  await pool.query(
    `WITH expired AS (DELETE FROM ui_sessions WHERE expires_at <= $4)
     INSERT INTO ui_sessions (id_hash, csrf_token, token_fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [session.idHash, session.csrfToken, session.tokenFingerprint, session.createdAt, session.expiresAt],
  );
}

export async function getSession(pool: pg.Pool, idHash: string, now: number): Promise<UiSession | undefined> {
  const { rows } = await pool.query<Row>('SELECT * FROM ui_sessions WHERE id_hash = $1 AND expires_at > $2', [idHash, now]);
  const row = rows[0];
  return row && {
    idHash: row.id_hash,
    csrfToken: row.csrf_token,
    tokenFingerprint: row.token_fingerprint,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

export async function deleteSession(pool: pg.Pool, idHash: string): Promise<void> {
  await pool.query('DELETE FROM ui_sessions WHERE id_hash = $1', [idHash]);
}

export async function deleteAllSessions(pool: pg.Pool): Promise<number> {
  return (await pool.query('DELETE FROM ui_sessions')).rowCount ?? 0;
}
