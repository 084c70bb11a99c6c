DROP INDEX projects_search;
ALTER TABLE projects DROP COLUMN search;
