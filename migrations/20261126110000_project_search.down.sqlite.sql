DROP TRIGGER projects_fts_update;
DROP TRIGGER projects_fts_delete;
DROP TRIGGER projects_fts_insert;
DROP TABLE projects_fts;
