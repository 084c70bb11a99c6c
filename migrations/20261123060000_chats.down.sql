DROP TABLE messages;
DROP TABLE chat_members;
DROP TABLE chats;
