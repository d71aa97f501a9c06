-- The outbox: one delivery per (event, handler), written in the event's own transaction, and one attempt row per try.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,  -- purging an event purges its deliveries
  handler TEXT NOT NULL,                  -- the handler's name in the config file
  status TEXT NOT NULL,                   -- pending | running | failed (will retry) | succeeded | dead | cancelled
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,                         -- unix ms the next attempt may start; NULL unless pending or failed
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  conversation_uuid TEXT,                 -- set only on escalations (unlessFollowedBy), the rows a later event may cancel
  manual INTEGER NOT NULL DEFAULT 0,      -- 1 after an operator's redelivery: one attempt, not a new round of retries
  last_error TEXT,
  last_status_code INTEGER,
  external_id TEXT,                       -- what the remote side created, e.g. the Zendesk ticket id
  state TEXT,                             -- JSON progress a handler keeps between attempts (numbers already texted)
  cancelled_by INTEGER                    -- seq of the event that cancelled this escalation (no FK: purges need no index on it)
);
-- The worker's claim and wake-up queries: per status and handler, in due order.
CREATE INDEX deliveries_due ON deliveries (status, handler, due_at);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_escalation ON deliveries (conversation_uuid) WHERE conversation_uuid IS NOT NULL;

CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,               -- 1 for the first try
  started_at INTEGER NOT NULL,            -- unix ms
  duration_ms INTEGER,                    -- NULL while running
  outcome TEXT,                           -- succeeded | failed | interrupted; NULL while running
  status_code INTEGER,
  error TEXT,                             -- cut to 1,000 characters
  response TEXT                           -- the remote's answer or the command's output, cut to 4 KB
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
