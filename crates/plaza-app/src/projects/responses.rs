//! Responses (proposals): a freelancer responds once to an open project
//! that is not theirs; the owner accepts or rejects, the author withdraws
//! or edits while pending. Accepting one starts the project, rejects the
//! rest, and — through the job it enqueues in the same unit of work — opens
//! a direct chat between the two and tells both.

use plaza_core::{Currency, ProjectId, ResponseId, Timestamp, UserId};
use plaza_platform::Work;
use plaza_platform::db::unique_violation;
use serde_json::json;

use super::error::{ProjectsError, invalid};
use super::model::{Project, Response, ResponseStatus, Status};
use super::rules;
use super::service::{event, visible};
use super::store;
use crate::http::AuthUser;
use crate::notifications::{Notice, send};
use crate::state::AppState;

/// A new response.
#[derive(Debug)]
pub struct NewResponse {
    pub cover_letter: String,
    /// Minor units, positive.
    pub bid_amount: i64,
    /// The project's currency.
    pub currency: Currency,
    pub eta_days: i64,
}

/// A change to a response: a decision (`status`) or edits, not both.
#[derive(Debug, Default)]
pub struct Change {
    pub status: Option<ResponseStatus>,
    pub cover_letter: Option<String>,
    pub bid_amount: Option<i64>,
    pub eta_days: Option<i64>,
}

/// A page of responses, and how many there are in all.
#[derive(Debug)]
pub struct ResponsePage {
    pub items: Vec<Response>,
    pub total: i64,
    pub has_more: bool,
}

fn bid(amount: i64) -> Result<i64, ProjectsError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(invalid("bid_amount", "a positive amount in minor units"))
    }
}

fn eta(days: i64) -> Result<i64, ProjectsError> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(invalid("eta_days", "1 to 365"))
    }
}

/// What notices about a response say.
fn notice(kind: &str, project: &Project, response: &Response) -> Notice {
    Notice::template(
        kind,
        json!({
            "project_id": project.id, "title": project.title, "response_id": response.id,
            "bid_amount": response.bid_amount, "currency": response.currency,
            "eta_days": response.eta_days,
        }),
    )
}

/// Responds to an open project; its owner is told.
#[tracing::instrument(skip(state, me, new))]
pub async fn create(
    state: &AppState,
    me: AuthUser,
    id: ProjectId,
    new: NewResponse,
) -> Result<Response, ProjectsError> {
    let now = state.clock.now();
    let response = Response {
        id: ResponseId::new(),
        project_id: id,
        freelancer_id: me.user_id,
        cover_letter: rules::text("cover_letter", &new.cover_letter, 1, 5000)?,
        bid_amount: bid(new.bid_amount)?,
        currency: new.currency,
        eta_days: eta(new.eta_days)?,
        status: ResponseStatus::Pending,
        created_at: now,
        updated_at: now,
    };
    let mut work = state.work().await?;
    let project = visible(&mut work, id, Some(&me)).await?;
    may_respond(&mut work, &project, &response, me.user_id).await?;
    if let Err(e) = store::insert_response(&mut work, &response).await {
        return Err(if unique_violation(&e).is_some() {
            ProjectsError::AlreadyResponded(None)
        } else {
            e.into()
        });
    }
    let data = json!({
        "project_id": id, "response_id": response.id, "freelancer_id": me.user_id,
        "bid_amount": response.bid_amount, "currency": response.currency,
    });
    let created = event("project.response.created", &project, me.user_id, data, now);
    work.record(&created).await?;
    let told = notice("project.response.created", &project, &response);
    send(&mut work, &[project.owner_id], &told).await?;
    work.commit().await?;
    Ok(response)
}

/// Not my own project, in its currency, once, and while it is open (the
/// count taken only then: an accept or a cancel racing this one wins).
async fn may_respond(
    conn: &mut sqlx::AnyConnection,
    project: &Project,
    response: &Response,
    me: UserId,
) -> Result<(), ProjectsError> {
    if project.owner_id == me {
        return Err(ProjectsError::Forbidden(
            "you cannot respond to your own project",
        ));
    }
    if response.currency != project.currency {
        return Err(invalid(
            "currency",
            format!("bids on this project are in {}", project.currency),
        ));
    }
    if let Some(mine) = store::response_of(conn, project.id, me).await? {
        return Err(ProjectsError::AlreadyResponded(Some(Box::new(mine))));
    }
    if !store::count_response(conn, project.id).await? {
        return Err(ProjectsError::NotOpen(project.status));
    }
    Ok(())
}

/// All of a project's responses for its owner (and admins), my own for
/// anyone else; oldest first.
#[tracing::instrument(skip(state, me))]
pub async fn list(
    state: &AppState,
    me: AuthUser,
    id: ProjectId,
    (limit, offset): (i64, i64),
) -> Result<ResponsePage, ProjectsError> {
    let mut conn = state.db.reader().acquire().await?;
    let project = visible(&mut conn, id, Some(&me)).await?;
    let only = (project.owner_id != me.user_id && !me.is_admin()).then_some(me.user_id);
    let (items, total) = store::responses(&mut conn, id, only, limit, offset).await?;
    Ok(ResponsePage {
        has_more: offset + (items.len() as i64) < total,
        items,
        total,
    })
}

/// Accepts, rejects, withdraws or edits a response.
#[tracing::instrument(skip(state, me, change))]
pub async fn update(
    state: &AppState,
    me: AuthUser,
    (id, rid): (ProjectId, ResponseId),
    change: Change,
) -> Result<Response, ProjectsError> {
    let edits =
        change.cover_letter.is_some() || change.bid_amount.is_some() || change.eta_days.is_some();
    if change.status.is_some() && edits {
        return Err(ProjectsError::Unclear(
            "either a decision (`status`) or edits, not both",
        ));
    }
    let mut work = state.work().await?;
    let project = visible(&mut work, id, Some(&me)).await?;
    let found = store::find_response(&mut work, id, rid).await?;
    let mut response = found
        .filter(|r| {
            project.owner_id == me.user_id || r.freelancer_id == me.user_id || me.is_admin()
        })
        .ok_or(ProjectsError::ResponseNotFound)?;
    match change.status {
        None if !edits => return Err(ProjectsError::Unclear("nothing to change")),
        None => edit(&mut work, &mut response, &change, &me).await?,
        Some(to) => decide(&mut work, &project, &mut response, to, &me).await?,
    }
    work.commit().await?;
    Ok(response)
}

/// The author edits a pending response.
async fn edit(
    work: &mut Work<'_>,
    response: &mut Response,
    change: &Change,
    me: &AuthUser,
) -> Result<(), ProjectsError> {
    if response.freelancer_id != me.user_id {
        return Err(ProjectsError::Forbidden(
            "only the response's author edits it",
        ));
    }
    if response.status != ResponseStatus::Pending {
        return Err(ProjectsError::NotPending(response.status));
    }
    if let Some(letter) = &change.cover_letter {
        response.cover_letter = rules::text("cover_letter", letter, 1, 5000)?;
    }
    if let Some(amount) = change.bid_amount {
        response.bid_amount = bid(amount)?;
    }
    if let Some(days) = change.eta_days {
        response.eta_days = eta(days)?;
    }
    response.updated_at = work.now();
    if !store::update_response(work, response).await? {
        return Err(ProjectsError::NotPending(response.status));
    }
    Ok(())
}

/// A decision on a response: the owner accepts or rejects, the author
/// withdraws.
async fn decide(
    work: &mut Work<'_>,
    project: &Project,
    response: &mut Response,
    to: ResponseStatus,
    me: &AuthUser,
) -> Result<(), ProjectsError> {
    let owner = project.owner_id == me.user_id;
    let author = response.freelancer_id == me.user_id;
    let now = work.now();
    match to {
        ResponseStatus::Pending => Err(invalid("status", "accepted, rejected or withdrawn")),
        ResponseStatus::Withdrawn if !author => Err(ProjectsError::Forbidden(
            "only the response's author withdraws it",
        )),
        ResponseStatus::Withdrawn => {
            settle(work, response, ResponseStatus::Withdrawn, now).await?;
            let data = json!({"project_id": project.id, "response_id": response.id});
            let withdrawn = event("project.response.withdrawn", project, me.user_id, data, now);
            Ok(work.record(&withdrawn).await?)
        }
        ResponseStatus::Rejected if !owner => Err(ProjectsError::Forbidden(
            "only the project's owner rejects a response",
        )),
        ResponseStatus::Rejected => {
            settle(work, response, ResponseStatus::Rejected, now).await?;
            reject(work, project, response, me.user_id).await
        }
        ResponseStatus::Accepted if !owner => Err(ProjectsError::Forbidden(
            "only the project's owner accepts a response",
        )),
        ResponseStatus::Accepted if response.status != ResponseStatus::Pending => {
            Err(ProjectsError::NotPending(response.status))
        }
        ResponseStatus::Accepted => accept(work, project, response, me.user_id).await,
    }
}

async fn settle(
    conn: &mut sqlx::AnyConnection,
    response: &mut Response,
    to: ResponseStatus,
    now: Timestamp,
) -> Result<(), ProjectsError> {
    if !store::settle_response(conn, response.id, to, now).await? {
        return Err(ProjectsError::NotPending(response.status));
    }
    response.status = to;
    response.updated_at = now;
    Ok(())
}

/// Records a rejection and tells the freelancer.
async fn reject(
    work: &mut Work<'_>,
    project: &Project,
    response: &Response,
    owner: UserId,
) -> Result<(), ProjectsError> {
    let data = json!({"project_id": project.id, "response_id": response.id,
        "freelancer_id": response.freelancer_id});
    let now = work.now();
    let rejected = event("project.response.rejected", project, owner, data, now);
    work.record(&rejected).await?;
    let told = Notice::template(
        "project.response.rejected",
        json!({"project_id": project.id, "title": project.title, "response_id": response.id}),
    );
    send(work, &[response.freelancer_id], &told).await?;
    Ok(())
}

/// Starts the project with `response` — only one accept finds it still
/// open — and rejects the other pending responses.
async fn accept(
    work: &mut Work<'_>,
    project: &Project,
    response: &mut Response,
    owner: UserId,
) -> Result<(), ProjectsError> {
    let now = work.now();
    if !store::start_with(work, project.id, response.id, now).await? {
        return Err(ProjectsError::CannotAccept(project.status));
    }
    settle(work, response, ResponseStatus::Accepted, now).await?;
    let data = json!({"project_id": project.id, "from": Status::Open, "to": Status::InProgress});
    let started = event("project.status_changed", project, owner, data, now);
    work.record(&started).await?;
    let data = json!({"project_id": project.id, "response_id": response.id,
        "freelancer_id": response.freelancer_id, "owner_id": owner,
        "bid_amount": response.bid_amount, "currency": response.currency});
    let accepted = event("project.response.accepted", project, owner, data, now);
    work.record(&accepted).await?;
    for (id, freelancer) in store::reject_others(work, project.id, response.id, now).await? {
        let other = Response {
            id,
            freelancer_id: freelancer,
            status: ResponseStatus::Rejected,
            ..response.clone()
        };
        reject(work, project, &other, owner).await?;
    }
    let follow_up = super::accepted::Accepted {
        project_id: project.id,
        response_id: response.id,
    };
    work.enqueue(&follow_up).await?;
    Ok(())
}
