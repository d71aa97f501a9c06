-- Claims with leases, as on PostgreSQL: a running delivery belongs to the worker holding its claim token until
-- lease_until; after that the reaper returns it to pending and the late worker's result is refused.
ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;  -- unix ms; set only while running
ALTER TABLE deliveries ADD COLUMN claim_token TEXT;     -- random per claim; only its holder may record the attempt
-- Rows left running by a version without leases belong to no live worker: the first reaper run returns them.
UPDATE deliveries SET lease_until = 0 WHERE status = 'running';
