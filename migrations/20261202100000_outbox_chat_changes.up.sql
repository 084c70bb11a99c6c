-- A resuming socket asks what changed in a chat since it left: edits,
-- deletions and reactions, read from the outbox. Only those event types are
-- indexed, so storing a message (the hot path) pays nothing for it.
CREATE INDEX outbox_chat_changes ON outbox (subject, occurred_at)
    WHERE type IN ('chat.message.edited', 'chat.message.deleted',
        'chat.reaction.added', 'chat.reaction.removed');
