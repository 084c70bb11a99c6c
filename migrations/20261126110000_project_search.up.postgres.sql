-- Full-text search over projects: a generated, weighted tsvector (title
-- and skills weigh A, the description B; 'simple' configuration: no
-- stemming, every language alike) and a GIN index on it.
ALTER TABLE projects ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A')
    || setweight(to_tsvector('simple', replace(skills, ',', ' ')), 'A')
    || setweight(to_tsvector('simple', description), 'B')
) STORED;
CREATE INDEX projects_search ON projects USING GIN (search);
