DROP INDEX outbox_chat_changes;
