DROP INDEX jobs_state;
CREATE INDEX jobs_state ON jobs (queue, state);
