-- PostgreSQL records chat.message.created in message_store's CTE.
SELECT 1;
