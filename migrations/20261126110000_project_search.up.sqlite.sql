-- Full-text search over projects: an FTS5 index of title, skills and
-- description, kept in step by triggers.
CREATE VIRTUAL TABLE projects_fts USING fts5(
    title,
    skills,
    description,
    content = 'projects',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER projects_fts_insert AFTER INSERT ON projects BEGIN
    INSERT INTO projects_fts (rowid, title, skills, description)
        VALUES (new.rowid, new.title, new.skills, new.description);
END;
CREATE TRIGGER projects_fts_delete AFTER DELETE ON projects BEGIN
    INSERT INTO projects_fts (projects_fts, rowid, title, skills, description)
        VALUES ('delete', old.rowid, old.title, old.skills, old.description);
END;
CREATE TRIGGER projects_fts_update AFTER UPDATE OF title, skills, description ON projects BEGIN
    INSERT INTO projects_fts (projects_fts, rowid, title, skills, description)
        VALUES ('delete', old.rowid, old.title, old.skills, old.description);
    INSERT INTO projects_fts (rowid, title, skills, description)
        VALUES (new.rowid, new.title, new.skills, new.description);
END;
