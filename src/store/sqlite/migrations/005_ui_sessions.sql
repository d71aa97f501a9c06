-- Web inbox sessions: only the sha256 of the cookie's id is kept, so a copy of the database opens no browser session.
CREATE TABLE ui_sessions (
  id_hash           TEXT PRIMARY KEY,   -- sha256 of the random session id, hex
  csrf_token        TEXT NOT NULL,      -- posted back by every form of the session
  token_fingerprint TEXT NOT NULL,      -- sha256 of the API token in force at sign-in: rotating it ends the session
  created_at        INTEGER NOT NULL,   -- unix ms
  expires_at        INTEGER NOT NULL    -- unix ms
) WITHOUT ROWID;
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
