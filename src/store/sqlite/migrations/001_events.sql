-- Events as received: the raw body byte for byte, plus the few columns queries filter on.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order; the public id encodes it
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL,           -- unix milliseconds
  body_sha256 BLOB NOT NULL,              -- sha256 of type and raw body: the same bytes on the same route are one event
  raw BLOB NOT NULL,
  conversation_uuid TEXT,
  visitor_uuid TEXT,
  visitor_email TEXT,                     -- lower-cased
  visitor_name TEXT,
  rating TEXT                             -- 'up', 'down' or NULL
);
CREATE UNIQUE INDEX events_body_sha256 ON events (body_sha256);
CREATE INDEX events_conversation ON events (conversation_uuid) WHERE conversation_uuid IS NOT NULL;
CREATE INDEX events_visitor_uuid ON events (visitor_uuid) WHERE visitor_uuid IS NOT NULL;
CREATE INDEX events_visitor_email ON events (visitor_email) WHERE visitor_email IS NOT NULL;

-- Bodies refused with 422, kept with their errors so an operator can inspect and replay them.
CREATE TABLE rejections (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  raw BLOB NOT NULL,
  errors TEXT NOT NULL                    -- JSON array of {path, message}
);

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
