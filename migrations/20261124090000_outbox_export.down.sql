DROP INDEX outbox_unexported;
ALTER TABLE outbox DROP COLUMN exported_at;
