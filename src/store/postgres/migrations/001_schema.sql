-- The PostgreSQL schema: the same tables as SQLite's migrations 001-003, with a lease and a claim token on deliveries
-- so several replicas can share the outbox. Times are unix milliseconds (bigint) like on SQLite, except lease_until,
-- which is stamped by the database's clock so replicas with skewed clocks agree on when a lease ran out.

-- Events as received: the raw body byte for byte, plus the few columns queries filter on.
CREATE TABLE events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order; the public id encodes it
  type text NOT NULL,
  received_at bigint NOT NULL,                          -- unix milliseconds
  body_sha256 bytea NOT NULL,                           -- sha256 of type and raw body: the same bytes on the same route are one event
  raw bytea NOT NULL,
  conversation_uuid text,
  visitor_uuid text,
  visitor_email text,                                   -- lower-cased
  visitor_name text,
  rating text,                                          -- 'up', 'down' or NULL
  -- Full-text words (tokenize() output with positions, built in TypeScript so both backends split words alike) and
  -- chat tags (exact strings); NULL when the event has none, so the GIN indexes only hold events that have some.
  search tsvector,
  tags text[]
);
CREATE UNIQUE INDEX events_body_sha256 ON events (body_sha256);
CREATE INDEX events_conversation ON events (conversation_uuid) WHERE conversation_uuid IS NOT NULL;
CREATE INDEX events_visitor_uuid ON events (visitor_uuid) WHERE visitor_uuid IS NOT NULL;
CREATE INDEX events_visitor_email ON events (visitor_email) WHERE visitor_email IS NOT NULL;
CREATE INDEX events_rating ON events (rating, seq) WHERE rating IS NOT NULL;
CREATE INDEX events_search ON events USING gin (search) WHERE search IS NOT NULL;
CREATE INDEX events_tags ON events USING gin (tags) WHERE tags IS NOT NULL;
-- No index on received_at: time ranges become seq ranges by a binary search over the primary key (events.ts).

-- Seconds from a transcript's first visitor message to the first agent answer, computed at ingest.
CREATE TABLE transcript_first_response (
  seq bigint PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
  seconds double precision NOT NULL
);

-- Bodies refused with 422, kept with their errors so an operator can inspect and replay them.
CREATE TABLE rejections (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL,
  received_at bigint NOT NULL,
  raw bytea NOT NULL,
  errors text NOT NULL                                  -- JSON array of {path, message}
);

CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

-- The outbox: one delivery per (event, handler), written in the event's own transaction, and one attempt row per try.
CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  handler text NOT NULL,
  status text NOT NULL,                                 -- pending | running | failed (will retry) | succeeded | dead | cancelled
  attempts integer NOT NULL DEFAULT 0,
  due_at bigint,                                        -- unix ms the next attempt may start; NULL unless pending or failed
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  conversation_uuid text,                               -- set only on escalations, the rows a later event may cancel
  manual boolean NOT NULL DEFAULT false,
  last_error text,
  last_status_code integer,
  external_id text,
  state text,                                           -- JSON progress a handler keeps between attempts
  cancelled_by bigint,                                  -- seq of the event that cancelled this escalation
  lease_until timestamptz,                              -- while running: when the reaper may hand it to another worker
  claim_token text                                      -- while running: only this claim may record the outcome
);
-- Claims and wake-ups read waiting rows per handler in due order; the backlog gauge and the global concurrency count
-- read only unfinished rows, so neither ever scans the finished history.
CREATE INDEX deliveries_waiting ON deliveries (handler, due_at, id) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_running ON deliveries (handler, lease_until) WHERE status = 'running';
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status = 'running';
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_handler ON deliveries (handler, id);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_escalation ON deliveries (conversation_uuid) WHERE conversation_uuid IS NOT NULL;

CREATE TABLE delivery_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer,
  outcome text,                                         -- succeeded | failed | interrupted; NULL while running
  status_code integer,
  error text,
  response text
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
-- The reaper closes open attempts of expired leases: only open ones are indexed, never the whole history.
CREATE INDEX delivery_attempts_open ON delivery_attempts (delivery_id) WHERE outcome IS NULL;
