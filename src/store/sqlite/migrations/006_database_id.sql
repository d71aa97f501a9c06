-- The database's identity: 8 random base-36 characters written once, at creation (or on upgrade). Public ids end with
-- it, so they are unique beyond this database; DATA_DIR keeps a copy beside the file to recognise it at start.
INSERT INTO meta (key, value)
WITH RECURSIVE draw (n, id) AS (
  SELECT 0, ''
  UNION ALL
  SELECT n + 1, id || substr('0123456789abcdefghijklmnopqrstuvwxyz', 1 + abs(random() % 36), 1) FROM draw WHERE n < 8
)
SELECT 'database_id', id FROM draw WHERE n = 8
ON CONFLICT (key) DO NOTHING;
