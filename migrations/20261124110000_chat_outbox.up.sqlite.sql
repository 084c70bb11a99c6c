-- Every stored message records chat.message.created in the outbox in the
-- same statement (PostgreSQL does it in message_store's CTE). The event's
-- id is the message's (both UUIDv7).
CREATE TRIGGER messages_outbox AFTER INSERT ON messages
BEGIN
    INSERT INTO outbox (id, type, occurred_at, actor_id, subject, data)
    VALUES (NEW.id, 'chat.message.created', NEW.created_at, NEW.sender_id,
        'chat:' || NEW.chat_id,
        json_object('chat_id', NEW.chat_id, 'message_id', NEW.id, 'seq', NEW.seq,
            'sender_id', NEW.sender_id, 'message_type', NEW.message_type,
            'reply_to', NEW.reply_to));
END;
