-- Query support: full-text search, chat tags, and the one index the rating filter needs.

-- The searchable text of each event (message texts, offline message and subject, feedback, visitor name and email),
-- keyed by events.seq. Contentless: the text lives once, in events.raw; contentless_delete lets erasure remove rows.
CREATE VIRTUAL TABLE events_fts USING fts5(
  text,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- Every path that deletes an event (erasure, retention, a manual DELETE) also drops its full-text row.
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  DELETE FROM events_fts WHERE rowid = old.seq;
END;

-- Words typed after `/chatlio send-to-webhook` (a transcript's extraData), lower-cased: Chatlio's way of tagging a chat.
-- Only tagged transcripts pay for these rows.
CREATE TABLE event_tags (
  tag TEXT NOT NULL,
  seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  PRIMARY KEY (tag, seq)
) WITHOUT ROWID;
CREATE INDEX event_tags_seq ON event_tags (seq);

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
