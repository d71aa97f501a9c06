-- Operational alerts, as SQLite's migration 005: one row per episode of a condition, the counter behind "failed N times
-- in a row", and deliveries that belong to an event or to an alert (an alert's notifications).
CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,                                   -- dead | failing | overdue | silence | rejections
  subject text NOT NULL,                                -- the handler it is about, '' for the relay as a whole
  opened_at bigint NOT NULL,
  resolved_at bigint,                                   -- NULL while open
  detail text NOT NULL                                  -- JSON: summary, what to do, last error and status, link
);
-- At most one open alert per condition: the dedup between replicas.
CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved_at IS NULL;

CREATE TABLE handler_health (
  handler text PRIMARY KEY,
  consecutive_failures integer NOT NULL,
  last_error text,
  last_status_code integer,
  updated_at bigint NOT NULL
);

ALTER TABLE deliveries ALTER COLUMN event_seq DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN alert_id bigint REFERENCES alerts (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD COLUMN alert_action text;    -- trigger | resolve
CREATE INDEX deliveries_alert ON deliveries (alert_id) WHERE alert_id IS NOT NULL;
-- The "deliveries went dead" condition counts one handler's dead rows without walking everyone's.
CREATE INDEX deliveries_dead ON deliveries (handler) WHERE status = 'dead';
