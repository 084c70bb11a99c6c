DROP TABLE mail_suppressions;
DROP TABLE notification_templates;
DROP TABLE notification_settings;
DROP TABLE notification_subscriptions;
DROP TABLE notifications;
