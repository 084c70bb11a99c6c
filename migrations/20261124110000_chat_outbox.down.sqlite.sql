DROP TRIGGER messages_outbox;
