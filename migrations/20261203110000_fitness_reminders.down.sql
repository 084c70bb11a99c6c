ALTER TABLE fitness_profiles DROP COLUMN reported_on;
ALTER TABLE fitness_profiles DROP COLUMN reminded_on;
ALTER TABLE fitness_profiles DROP COLUMN reminder_time;
