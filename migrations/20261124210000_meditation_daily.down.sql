DROP INDEX meditation_sessions_ended;
DROP TABLE meditation_rollup;
DROP TABLE meditation_daily;
