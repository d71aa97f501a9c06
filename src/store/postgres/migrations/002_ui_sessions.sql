-- Web inbox sessions: only the sha256 of the cookie's id is kept, so a copy of the database opens no browser session.
CREATE TABLE ui_sessions (
  id_hash           text PRIMARY KEY,   -- sha256 of the random session id, hex
  csrf_token        text NOT NULL,      -- posted back by every form of the session
  token_fingerprint text NOT NULL,      -- sha256 of the API token in force at sign-in: rotating it ends the session
  created_at        bigint NOT NULL,    -- unix ms
  expires_at        bigint NOT NULL     -- unix ms
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
