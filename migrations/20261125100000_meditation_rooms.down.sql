DROP INDEX meditation_daily_day;
DROP INDEX meditation_sessions_round;
ALTER TABLE meditation_sessions DROP COLUMN round_id;
DROP TABLE meditation_room_members;
DROP TABLE meditation_room_invites;
DROP TABLE meditation_rooms;
