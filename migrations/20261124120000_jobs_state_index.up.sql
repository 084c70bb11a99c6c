-- The claim (state = 'waiting', ordered by priority, run_at, id) must walk
-- jobs_ready and stop at its LIMIT. On a table whose statistics are not yet
-- current, PostgreSQL preferred the smaller (queue, state) index and sorted
-- every waiting job on each claim (10-18 ms with 30 000 waiting); that index
-- now leaves waiting jobs out, so it cannot serve the claim.
DROP INDEX jobs_state;
CREATE INDEX jobs_state ON jobs (queue, state) WHERE state <> 'waiting';
