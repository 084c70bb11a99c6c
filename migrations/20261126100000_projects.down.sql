DROP TABLE project_responses;
DROP TABLE project_skills;
DROP TABLE projects;
