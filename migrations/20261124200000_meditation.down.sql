DROP TABLE meditation_sessions;
