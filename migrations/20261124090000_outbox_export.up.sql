-- Events handed to the configured broker (features.event_export); kept
-- apart from published_at so a broker outage never holds up the bus.
ALTER TABLE outbox ADD COLUMN exported_at TEXT;
CREATE INDEX outbox_unexported ON outbox (id) WHERE exported_at IS NULL;
