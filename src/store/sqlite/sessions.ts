// Web inbox sessions on SQLite: a tiny table, written at sign-in and sign-out, read on every /ui request.
import type { UiSession } from '../storage.js';
import type { Db } from './db.js';

type Row = { id_hash: string; csrf_token: string; token_fingerprint: string; created_at: number; expires_at: number };

export function sessionStore(db: Db) {
  const insert = db.prepare<[string, string, string, number, number]>(
    'INSERT INTO ui_sessions (id_hash, csrf_token, token_fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const dropExpired = db.prepare<[number]>('DELETE FROM ui_sessions WHERE expires_at <= ?');
  const select = db.prepare<[string, number], Row>('SELECT * FROM ui_sessions WHERE id_hash = ? AND expires_at > ?');
  const remove = db.prepare<[string]>('DELETE FROM ui_sessions WHERE id_hash = ?');
  const removeAll = db.prepare('DELETE FROM ui_sessions');
  return {
    create(session: UiSession): void {
      // Sign-ins are rare: clearing the expired rows then keeps the table at the size of the live sessions.
      dropExpired.run(session.createdAt);
      insert.run(session.idHash, session.csrfToken, session.tokenFingerprint, session.createdAt, session.expiresAt);
    },
    get(idHash: string, now: number): UiSession | undefined {
      const row = select.get(idHash, now);
      return row && {
        idHash: row.id_hash,
        csrfToken: row.csrf_token,
        tokenFingerprint: row.token_fingerprint,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
    delete: (idHash: string) => void remove.run(idHash),
    deleteAll: () => removeAll.run().changes,
  };
}
