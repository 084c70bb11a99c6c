-- A stored message moves its chat's last_seq and its sender's read marker
-- in the same statement as the insert (see message_store::insert_if_allowed).
CREATE TRIGGER messages_take_seq AFTER INSERT ON messages
BEGIN
    UPDATE chats SET last_seq = NEW.seq, last_message_at = NEW.created_at,
        updated_at = NEW.created_at
    WHERE id = NEW.chat_id AND last_seq < NEW.seq;
    UPDATE chat_members SET last_read_seq = NEW.seq
    WHERE chat_id = NEW.chat_id AND user_id = NEW.sender_id AND last_read_seq < NEW.seq;
END;
