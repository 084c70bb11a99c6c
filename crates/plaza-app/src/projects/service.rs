//! Projects' use cases: posting one, seeing one, the owner's edits and
//! moves, and removing one (erased, or archived for those who responded).

use plaza_core::{Currency, ProjectId, Timestamp, UserId};
use plaza_platform::outbox::Event;
use serde_json::{Value, json};

use super::error::{ProjectsError, invalid};
use super::model::{Project, Status};
use super::rules;
use super::store;
use crate::http::AuthUser;
use crate::state::AppState;

/// A new project.
#[derive(Debug)]
pub struct NewProject {
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub currency: Currency,
    /// A date, today or later.
    pub deadline: Option<String>,
    /// `draft` (default) or `open`.
    pub status: Option<Status>,
}

/// An owner's edit: only the fields given change; `Some(None)` clears the
/// budget bounds and the deadline.
#[derive(Debug, Default)]
pub struct Edit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub skills: Option<Vec<String>>,
    pub budget_min: Option<Option<i64>>,
    pub budget_max: Option<Option<i64>>,
    pub currency: Option<Currency>,
    pub deadline: Option<Option<String>>,
    pub status: Option<Status>,
}

/// A date field, today (UTC) or later.
fn deadline(now: Timestamp, value: &str) -> Result<jiff::civil::Date, ProjectsError> {
    let date: jiff::civil::Date = value
        .parse()
        .map_err(|_| invalid("deadline", "a date such as 2026-12-31"))?;
    if date < now.date_in(&jiff::tz::TimeZone::UTC) {
        return Err(invalid("deadline", "must not be in the past"));
    }
    Ok(date)
}

/// A project's domain event.
pub(super) fn event(
    kind: &str,
    project: &Project,
    actor: UserId,
    data: Value,
    now: Timestamp,
) -> Event {
    Event::new(
        kind,
        format!("project:{}", project.id),
        Some(actor),
        data,
        now,
    )
}

/// Posts a project (a draft, or open at once).
#[tracing::instrument(skip(state, me, new))]
pub async fn create(
    state: &AppState,
    me: AuthUser,
    new: NewProject,
) -> Result<Project, ProjectsError> {
    let status = new.status.unwrap_or(Status::Draft);
    if !matches!(status, Status::Draft | Status::Open) {
        return Err(invalid("status", "draft or open"));
    }
    rules::budget(new.budget_min, new.budget_max)?;
    let now = state.clock.now();
    let project = Project {
        id: ProjectId::new(),
        owner_id: me.user_id,
        title: rules::name("title", &new.title, 3, 200)?,
        description: rules::text("description", &new.description, 1, 20_000)?,
        skills: rules::skills("skills", &new.skills)?,
        budget_min: new.budget_min,
        budget_max: new.budget_max,
        currency: new.currency,
        deadline: new
            .deadline
            .as_deref()
            .map(|d| deadline(now, d))
            .transpose()?,
        status,
        responses_count: 0,
        accepted_response_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut work = state.work().await?;
    store::insert(&mut work, &project).await?;
    let data = json!({"project_id": project.id, "status": project.status, "title": project.title});
    work.record(&event("project.created", &project, me.user_id, data, now))
        .await?;
    work.commit().await?;
    Ok(project)
}

/// A project and its accepted response, if one was accepted.
pub async fn deal(
    conn: &mut sqlx::AnyConnection,
    id: ProjectId,
) -> Result<Option<(Project, Option<super::model::Response>)>, sqlx::Error> {
    let Some(project) = store::find(conn, id).await? else {
        return Ok(None);
    };
    let response = match project.accepted_response_id {
        Some(accepted) => store::find_response(conn, id, accepted).await?,
        None => None,
    };
    Ok(Some((project, response)))
}

/// Who may see a project: anyone while it is listed; a draft its owner;
/// an archived one its owner and the people who responded; admins all.
#[tracing::instrument(level = "debug", skip_all)]
pub(super) async fn visible(
    conn: &mut sqlx::AnyConnection,
    id: ProjectId,
    me: Option<&AuthUser>,
) -> Result<Project, ProjectsError> {
    let project = store::find(conn, id)
        .await?
        .ok_or(ProjectsError::NotFound)?;
    let Some(me) = me else {
        return match project.status {
            Status::Draft | Status::Archived => Err(ProjectsError::NotFound),
            _ => Ok(project),
        };
    };
    let seen = match project.status {
        _ if me.is_admin() || project.owner_id == me.user_id => true,
        Status::Draft => false,
        Status::Archived => store::response_of(conn, id, me.user_id).await?.is_some(),
        _ => true,
    };
    if seen {
        Ok(project)
    } else {
        Err(ProjectsError::NotFound)
    }
}

/// A project, as `me` (anyone) may see it.
#[tracing::instrument(skip(state, me))]
pub async fn get(
    state: &AppState,
    me: Option<AuthUser>,
    id: ProjectId,
) -> Result<Project, ProjectsError> {
    let mut conn = state.db.reader().acquire().await?;
    visible(&mut conn, id, me.as_ref()).await
}

/// The owner edits or moves a project.
#[tracing::instrument(skip(state, me, edit))]
pub async fn update(
    state: &AppState,
    me: AuthUser,
    id: ProjectId,
    edit: Edit,
) -> Result<Project, ProjectsError> {
    let mut work = state.work().await?;
    let now = work.now();
    let was = visible(&mut work, id, Some(&me)).await?;
    if was.owner_id != me.user_id {
        return Err(ProjectsError::Forbidden(
            "only the project's owner edits it",
        ));
    }
    if was.status == Status::Archived {
        return Err(ProjectsError::Archived);
    }
    let mut project = edited(now, &was, &edit)?;
    project.updated_at = now;
    if !store::update(&mut work, &project, was.status).await? {
        return Err(ProjectsError::Changed(
            "the project changed meanwhile; read it and try again",
        ));
    }
    if project.skills != was.skills {
        store::set_skills(&mut work, project.id, &project.skills).await?;
    }
    if project.status != was.status {
        let data = json!({"project_id": project.id, "from": was.status, "to": project.status});
        let moved = event("project.status_changed", &project, me.user_id, data, now);
        work.record(&moved).await?;
        if was.status == Status::InProgress {
            state
                .closing
                .closed(&mut work, &project, project.status)
                .await?;
        }
    }
    work.commit().await?;
    Ok(project)
}

/// `was` with `edit`'s changes, checked.
fn edited(now: Timestamp, was: &Project, edit: &Edit) -> Result<Project, ProjectsError> {
    let mut project = was.clone();
    if let Some(title) = &edit.title {
        project.title = rules::name("title", title, 3, 200)?;
    }
    if let Some(description) = &edit.description {
        project.description = rules::text("description", description, 1, 20_000)?;
    }
    if let Some(skills) = &edit.skills {
        project.skills = rules::skills("skills", skills)?;
    }
    if let Some(d) = &edit.deadline {
        project.deadline = d.as_deref().map(|d| deadline(now, d)).transpose()?;
    }
    if edit.budget_min.is_some() || edit.budget_max.is_some() || edit.currency.is_some() {
        rebudget(was, &mut project, edit)?;
    }
    if let Some(to) = edit.status
        && to != was.status
    {
        was.status.check_move(to)?;
        if to == Status::InProgress {
            return Err(ProjectsError::StartByAccepting { from: was.status });
        }
        project.status = to;
    }
    Ok(project)
}

/// The budget and currency changes of `edit`, while they are not settled.
fn rebudget(was: &Project, project: &mut Project, edit: &Edit) -> Result<(), ProjectsError> {
    if was.accepted_response_id.is_some() {
        return Err(ProjectsError::Settled(
            "the budget is settled once a response is accepted",
        ));
    }
    if let Some(min) = edit.budget_min {
        project.budget_min = min;
    }
    if let Some(max) = edit.budget_max {
        project.budget_max = max;
    }
    rules::budget(project.budget_min, project.budget_max)?;
    if let Some(currency) = &edit.currency {
        if *currency != was.currency && was.responses_count > 0 {
            return Err(ProjectsError::Settled(
                "the currency cannot change once there are responses (their bids are in it)",
            ));
        }
        project.currency = currency.clone();
    }
    Ok(())
}

/// The owner or an admin removes a project: erased when nobody responded,
/// archived (kept for those who did) otherwise.
#[tracing::instrument(skip(state, me))]
pub async fn delete(state: &AppState, me: AuthUser, id: ProjectId) -> Result<(), ProjectsError> {
    let mut work = state.work().await?;
    let now = work.now();
    let project = visible(&mut work, id, Some(&me)).await?;
    if project.owner_id != me.user_id && !me.is_admin() {
        return Err(ProjectsError::Forbidden(
            "only the project's owner or an admin deletes it",
        ));
    }
    let archived = project.responses_count > 0;
    if archived {
        if project.status == Status::Archived {
            return Ok(());
        }
        if !store::set_status(&mut work, id, project.status, Status::Archived, now).await? {
            return Err(ProjectsError::Changed(
                "the project changed meanwhile; try again",
            ));
        }
        if project.status == Status::InProgress {
            let mut archived = project.clone();
            archived.status = Status::Archived;
            state
                .closing
                .closed(&mut work, &archived, Status::Archived)
                .await?;
        }
    } else {
        store::delete(&mut work, id).await?;
    }
    let data = json!({"project_id": project.id, "archived": archived});
    work.record(&event("project.deleted", &project, me.user_id, data, now))
        .await?;
    work.commit().await?;
    Ok(())
}
