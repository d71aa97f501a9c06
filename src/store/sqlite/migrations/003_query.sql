-- Query support: full-text search, chat tags, and the one index the rating filter needs.

-- Full-text search and chat tags, keyed by events.seq: `text` holds the searchable text (message texts, offline
-- message and subject, feedback, visitor name and email), `tags` the words typed after `/chatlio send-to-webhook`
-- (a transcript's extraData), each as one opaque token so a tag matches exactly. Tags share the full-text row instead
-- of a table of their own: ingest pays for one row, not one b-tree entry per tag (measured: a table with its seq index
-- cost as much ingest throughput as the full-text row). Contentless: the text lives once, in events.raw;
-- contentless_delete lets erasure remove rows.
CREATE VIRTUAL TABLE events_fts USING fts5(
  text,
  tags,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- Every path that deletes an event (erasure, retention, a manual DELETE) also drops its full-text row.
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  DELETE FROM events_fts WHERE rowid = old.seq;
END;

-- Ratings are rare (rated transcripts and feedback) and stored after the raw body, so scanning for them is slow:
-- a partial index costs only the rated events. type rides along so "rating + type" is checked without reading rows
-- (a rating=up&type=unanswered page that matches nothing: 290 ms → 20 ms on 1,000,000 events).
CREATE INDEX events_rating ON events (rating, seq, type) WHERE rating IS NOT NULL;

-- Seconds from a transcript's first visitor message to the first agent answer, computed at ingest so stats read
-- numbers instead of parsing every transcript in the range. Only transcripts that have both pay for a row.
CREATE TABLE transcript_first_response (
  seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
  seconds REAL NOT NULL
);
