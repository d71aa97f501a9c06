-- The database's identity, as on SQLite: 8 random base-36 characters written once. Public ids end with it, so two
-- databases (or a recreated one) never hand out the same id.
INSERT INTO meta (key, value)
SELECT 'database_id', string_agg(substr('0123456789abcdefghijklmnopqrstuvwxyz', 1 + floor(random() * 36)::int, 1), '')
FROM generate_series(1, 8)
ON CONFLICT (key) DO NOTHING;
