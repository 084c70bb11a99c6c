DROP TABLE ai_messages;
DROP TABLE ai_conversations;
DROP TABLE body_measurements;
DROP TABLE meal_logs;
DROP TABLE workout_sets;
DROP TABLE workout_logs;
DROP TABLE fitness_plans;
DROP TABLE fitness_profiles;
