DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (queue, priority, run_at) WHERE state = 'waiting';
