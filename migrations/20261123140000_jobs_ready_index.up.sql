-- Claiming orders by (priority, run_at, id): with id in the index the next
-- job is its first entry instead of a sort of every waiting job.
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (queue, priority, run_at, id) WHERE state = 'waiting';
