-- Operational alerts: one row per episode of a condition, and the counter behind "failed N times in a row". An alert's
-- notifications are ordinary deliveries of the notify handlers (same claim, retry and attempt log), so a delivery now
-- belongs to an event or to an alert.

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,                     -- dead | failing | overdue | silence | rejections
  subject TEXT NOT NULL,                  -- the handler it is about, '' for the relay as a whole
  opened_at INTEGER NOT NULL,             -- unix ms
  resolved_at INTEGER,                    -- NULL while open
  detail TEXT NOT NULL                    -- JSON: summary, what to do, last error and status, link
);
-- At most one open alert per condition: the dedup, also between replicas evaluating one after another.
CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved_at IS NULL;

CREATE TABLE handler_health (
  handler TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,  -- failed attempts since the last success
  last_error TEXT,
  last_status_code INTEGER,
  updated_at INTEGER NOT NULL
);

-- deliveries.event_seq loses its NOT NULL (an alert's delivery has no event) and gains alert_id: SQLite changes a
-- column constraint only by rebuilding the table. The attempts are rebuilt first, so dropping the old deliveries
-- cascades into nothing.
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_seq INTEGER REFERENCES events (seq) ON DELETE CASCADE,
  handler TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  conversation_uuid TEXT,
  manual INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_status_code INTEGER,
  external_id TEXT,
  state TEXT,
  cancelled_by INTEGER,
  lease_until INTEGER,
  claim_token TEXT,
  alert_id INTEGER REFERENCES alerts (id) ON DELETE CASCADE,  -- set instead of event_seq for an alert's notification
  alert_action TEXT                                           -- trigger | resolve
);
INSERT INTO deliveries_new (id, event_seq, handler, status, attempts, due_at, created_at, updated_at, conversation_uuid, manual,
  last_error, last_status_code, external_id, state, cancelled_by, lease_until, claim_token)
SELECT id, event_seq, handler, status, attempts, due_at, created_at, updated_at, conversation_uuid, manual,
  last_error, last_status_code, external_id, state, cancelled_by, lease_until, claim_token
FROM deliveries;

CREATE TABLE delivery_attempts_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES deliveries_new (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  outcome TEXT,
  status_code INTEGER,
  error TEXT,
  response TEXT
);
INSERT INTO delivery_attempts_new SELECT id, delivery_id, attempt, started_at, duration_ms, outcome, status_code, error, response FROM delivery_attempts;

-- Ids are never reused: the AUTOINCREMENT high-water marks move over with the rows.
-- (sqlite_sequence has one row per table that ever took a row, and no unique key to upsert on.)
INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'deliveries_new');
INSERT INTO sqlite_sequence (name, seq) SELECT 'delivery_attempts_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'delivery_attempts_new');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'), 0)) WHERE name = 'deliveries_new';
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'delivery_attempts'), 0)) WHERE name = 'delivery_attempts_new';

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

CREATE INDEX deliveries_due ON deliveries (status, handler, due_at);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_escalation ON deliveries (conversation_uuid) WHERE conversation_uuid IS NOT NULL;
CREATE INDEX deliveries_alert ON deliveries (alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
