DROP TRIGGER messages_take_seq;
