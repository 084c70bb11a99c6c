-- Workout reminders and weekly reports (issue 18): when to remind, in the
-- person's time zone, and the local dates last reminded and reported (so
-- each is sent once a day / a week however often the jobs run).
ALTER TABLE fitness_profiles ADD COLUMN reminder_time TEXT;
ALTER TABLE fitness_profiles ADD COLUMN reminded_on TEXT;
ALTER TABLE fitness_profiles ADD COLUMN reported_on TEXT;
