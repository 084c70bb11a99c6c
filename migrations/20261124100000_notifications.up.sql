-- Notifications (seed 001): what each person was told in the app, what
-- they want to be told and how, the templates that say it, and mail
-- addresses that no longer take mail.
-- The id is the delivery's, so a delivery job that runs twice stores one row.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    read_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;

-- A person's choice for one type on one channel; absent: the type's default.
CREATE TABLE notification_subscriptions (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (user_id, type, channel)
);

-- Quiet hours, "HH:MM" in the person's time zone (users.timezone).
CREATE TABLE notification_settings (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    quiet_start TEXT,
    quiet_end TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE notification_templates (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    channel TEXT NOT NULL,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    html TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX notification_templates_key ON notification_templates (type, channel, locale);

-- Addresses the mail server refused for good; mail to them is skipped.
CREATE TABLE mail_suppressions (
    email TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
