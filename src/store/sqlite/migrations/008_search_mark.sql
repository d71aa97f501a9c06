-- (WHERE true: an upsert after SELECT … FROM needs a WHERE, or SQLite reads ON CONFLICT as a join's ON.)
-- Full-text rows are now written in batches after their events' commits (src/store/sqlite/search.ts, searchIndexer):
-- meta.search_indexed_seq marks how far they are written. Every event stored so far got its row at ingest.
INSERT INTO meta (key, value)
SELECT 'search_indexed_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM events WHERE true
ON CONFLICT (key) DO NOTHING;
