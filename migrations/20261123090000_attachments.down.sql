DROP TABLE message_attachments;
ALTER TABLE files DROP COLUMN name;
