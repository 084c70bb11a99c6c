-- Marketplace projects (seed 001, issue 7). Money is in minor units with an
-- ISO 4217 code. `skills` holds the skills comma-joined for display and
-- search; `project_skills` serves the "any of these skills" filter.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    skills TEXT NOT NULL,
    budget_min BIGINT,
    budget_max BIGINT,
    currency TEXT NOT NULL,
    deadline TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'in_progress', 'completed',
        'cancelled', 'archived')),
    responses_count INTEGER NOT NULL DEFAULT 0,
    accepted_response_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (budget_min IS NULL OR budget_min > 0),
    CHECK (budget_max IS NULL OR budget_max > 0),
    CHECK (budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max)
);
CREATE INDEX projects_browse ON projects (status, created_at);
CREATE INDEX projects_owner ON projects (owner_id, created_at);
-- "Pays at least" filters and the budget sort read this, not the rows.
CREATE INDEX projects_budget ON projects (status, (COALESCE(budget_max, budget_min)), currency);

CREATE TABLE project_skills (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    skill TEXT NOT NULL,
    PRIMARY KEY (project_id, skill)
);
CREATE INDEX project_skills_skill ON project_skills (skill, project_id);

-- Responses (proposals): one per freelancer per project.
CREATE TABLE project_responses (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    freelancer_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cover_letter TEXT NOT NULL,
    bid_amount BIGINT NOT NULL CHECK (bid_amount > 0),
    currency TEXT NOT NULL,
    eta_days INTEGER NOT NULL CHECK (eta_days > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'withdrawn')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX project_responses_one ON project_responses (project_id, freelancer_id);
CREATE INDEX project_responses_freelancer ON project_responses (freelancer_id, created_at);
