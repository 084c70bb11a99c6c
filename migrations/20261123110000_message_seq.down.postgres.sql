-- PostgreSQL takes a message's seq in the inserting statement itself (a
-- data-modifying CTE in message_store::insert_if_allowed); nothing to add.
SELECT 1;
