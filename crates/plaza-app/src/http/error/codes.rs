//! Every error plaza answers: its stable `code`, the status it answers and
//! its `type`. A code never changes meaning once shipped; docs/errors.md
//! lists them all, and a test fails when the two differ.

use axum::http::StatusCode;

use super::ErrorKind;

/// One row of the error table.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    /// `slice.what`, e.g. `chat.not_found`.
    pub name: &'static str,
    pub status: StatusCode,
    pub kind: ErrorKind,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $status:ident, $kind:ident;)*) => {
        $(
            $(#[$doc])*
            pub const $id: &Code = &Code {
                name: $name,
                status: StatusCode::$status,
                kind: ErrorKind::$kind,
            };
        )*
        /// Every code, in table order.
        pub const ALL: &[&Code] = &[$($id),*];
    };
}

codes! {
    // What any request can meet, before a slice sees it.
    INPUT_MALFORMED = "input.malformed", BAD_REQUEST, ValidationError;
    INPUT_INVALID = "input.invalid", UNPROCESSABLE_ENTITY, ValidationError;
    INPUT_TOO_LARGE = "input.too_large", PAYLOAD_TOO_LARGE, PayloadTooLarge;
    INPUT_UNSUPPORTED_MEDIA_TYPE = "input.unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, UnsupportedMediaType;
    INPUT_NOT_AN_UPGRADE = "input.not_an_upgrade", BAD_REQUEST, ValidationError;
    ROUTE_NOT_FOUND = "route.not_found", NOT_FOUND, NotFound;
    REALTIME_OFF = "realtime.off", NOT_FOUND, NotFound;
    ROUTE_METHOD_NOT_ALLOWED = "route.method_not_allowed", METHOD_NOT_ALLOWED, MethodNotAllowed;
    REQUEST_REFUSED = "request.refused", BAD_REQUEST, ValidationError;
    AUTH_TOKEN_MISSING = "auth.token_missing", UNAUTHORIZED, AuthenticationError;
    AUTH_TOKEN_INVALID = "auth.token_invalid", UNAUTHORIZED, AuthenticationError;
    AUTH_ADMIN_ONLY = "auth.admin_only", FORBIDDEN, Forbidden;
    RATE_LIMITED = "rate.limited", TOO_MANY_REQUESTS, RateLimitError;
    SERVER_INTERNAL = "server.internal", INTERNAL_SERVER_ERROR, InternalError;
    SERVER_UNAVAILABLE = "server.unavailable", SERVICE_UNAVAILABLE, DependencyError;
    SERVER_DATABASE_BUSY = "server.database_busy", SERVICE_UNAVAILABLE, DependencyError;
    SERVER_STORAGE_FULL = "server.storage_full", INSUFFICIENT_STORAGE, DependencyError;
    SERVER_SHUTTING_DOWN = "server.shutting_down", SERVICE_UNAVAILABLE, DependencyError;
    SERVER_TIMEOUT = "server.timeout", GATEWAY_TIMEOUT, TimeoutError;

    // Readiness.
    HEALTH_NOT_READY = "health.not_ready", SERVICE_UNAVAILABLE, DependencyError;

    // Accounts, signing in, second factors, recovery, social sign-in.
    USERS_NOT_FOUND = "users.not_found", NOT_FOUND, NotFound;
    USERS_EMAIL_TAKEN = "users.email_taken", CONFLICT, Conflict;
    USERS_USERNAME_TAKEN = "users.username_taken", CONFLICT, Conflict;
    AUTH_INVALID_CREDENTIALS = "auth.invalid_credentials", UNAUTHORIZED, AuthenticationError;
    AUTH_LOCKED = "auth.locked", TOO_MANY_REQUESTS, RateLimitError;
    AUTH_BANNED = "auth.banned", FORBIDDEN, Forbidden;
    AUTH_INVALID_REFRESH = "auth.invalid_refresh", UNAUTHORIZED, AuthenticationError;
    AUTH_REFRESH_REUSED = "auth.refresh_reused", UNAUTHORIZED, AuthenticationError;
    AUTH_SESSION_NOT_FOUND = "auth.session_not_found", NOT_FOUND, NotFound;
    AUTH_OWN_ACCOUNT = "auth.own_account", CONFLICT, Conflict;
    AUTH_MFA_ALREADY_ON = "auth.mfa_already_on", CONFLICT, Conflict;
    AUTH_MFA_NO_SETUP = "auth.mfa_no_setup", CONFLICT, Conflict;
    AUTH_MFA_OFF = "auth.mfa_off", CONFLICT, Conflict;
    AUTH_EMAIL_UNVERIFIED = "auth.email_unverified", CONFLICT, Conflict;
    AUTH_CHALLENGE_INVALID = "auth.challenge_invalid", UNAUTHORIZED, AuthenticationError;
    AUTH_WRONG_CODE = "auth.wrong_code", UNAUTHORIZED, AuthenticationError;
    AUTH_ALREADY_VERIFIED = "auth.already_verified", CONFLICT, Conflict;
    AUTH_OAUTH_OFF = "auth.oauth_off", NOT_FOUND, NotFound;
    AUTH_OAUTH_NO_PROVIDER = "auth.oauth_no_provider", NOT_FOUND, NotFound;
    AUTH_OAUTH_UNAVAILABLE = "auth.oauth_unavailable", SERVICE_UNAVAILABLE, DependencyError;
    AUTH_OAUTH_DECLINED = "auth.oauth_declined", UNAUTHORIZED, AuthenticationError;
    AUTH_OAUTH_OTHER_BROWSER = "auth.oauth_other_browser", UNAUTHORIZED, AuthenticationError;
    AUTH_OAUTH_STATE_INVALID = "auth.oauth_state_invalid", UNAUTHORIZED, AuthenticationError;
    AUTH_OAUTH_CODE_REFUSED = "auth.oauth_code_refused", UNAUTHORIZED, AuthenticationError;
    AUTH_OAUTH_EMAIL_HELD = "auth.oauth_email_held", CONFLICT, Conflict;
    PROFILES_FORBIDDEN = "profiles.forbidden", FORBIDDEN, Forbidden;

    // Files.
    FILES_NOT_FOUND = "files.not_found", NOT_FOUND, NotFound;
    FILES_UPLOADS_OFF = "files.uploads_off", FORBIDDEN, Forbidden;
    FILES_NOT_A_PICTURE = "files.not_a_picture", UNSUPPORTED_MEDIA_TYPE, UnsupportedMediaType;
    FILES_STORAGE_UNAVAILABLE = "files.storage_unavailable", SERVICE_UNAVAILABLE, DependencyError;

    // Notifications.
    NOTIFICATIONS_NOT_FOUND = "notifications.not_found", NOT_FOUND, NotFound;
    NOTIFICATIONS_TEMPLATE_NOT_FOUND = "notifications.template_not_found", NOT_FOUND, NotFound;
    NOTIFICATIONS_TEMPLATE_TAKEN = "notifications.template_taken", CONFLICT, Conflict;

    // Meditation.
    MEDITATION_SESSION_NOT_FOUND = "meditation.session_not_found", NOT_FOUND, NotFound;
    MEDITATION_NONE_ACTIVE = "meditation.none_active", CONFLICT, Conflict;
    MEDITATION_SESSION_ENDED = "meditation.session_ended", CONFLICT, Conflict;
    MEDITATION_SESSION_ACTIVE = "meditation.session_active", CONFLICT, Conflict;
    MEDITATION_PLATFORM_FOR_ADMINS = "meditation.platform_for_admins", FORBIDDEN, Forbidden;
    MEDITATION_ROOM_NOT_FOUND = "meditation.room_not_found", NOT_FOUND, NotFound;
    MEDITATION_ROOM_CLOSED = "meditation.room_closed", NOT_FOUND, NotFound;
    MEDITATION_NOT_HOST = "meditation.not_host", FORBIDDEN, Forbidden;
    MEDITATION_NOT_IN_ROOM = "meditation.not_in_room", CONFLICT, Conflict;
    MEDITATION_NO_ROUND = "meditation.no_round", CONFLICT, Conflict;
    MEDITATION_ROUND_RUNNING = "meditation.round_running", CONFLICT, Conflict;
    MEDITATION_ROOM_FULL = "meditation.room_full", CONFLICT, Conflict;

    // The marketplace.
    PROJECTS_NOT_FOUND = "projects.not_found", NOT_FOUND, NotFound;
    PROJECTS_RESPONSE_NOT_FOUND = "projects.response_not_found", NOT_FOUND, NotFound;
    PROJECTS_FORBIDDEN = "projects.forbidden", FORBIDDEN, Forbidden;
    PROJECTS_ARCHIVED = "projects.archived", CONFLICT, Conflict;
    PROJECTS_CHANGED = "projects.changed", CONFLICT, Conflict;
    PROJECTS_SETTLED = "projects.settled", CONFLICT, Conflict;
    PROJECTS_BAD_MOVE = "projects.bad_move", CONFLICT, Conflict;
    PROJECTS_ALREADY_RESPONDED = "projects.already_responded", CONFLICT, Conflict;
    PROJECTS_NOT_OPEN = "projects.not_open", CONFLICT, Conflict;
    PROJECTS_NOT_PENDING = "projects.not_pending", CONFLICT, Conflict;
    PROJECTS_BLOCKED = "projects.blocked", CONFLICT, Conflict;

    // FitSync.
    FITNESS_PLAN_NOT_FOUND = "fitness.plan_not_found", NOT_FOUND, NotFound;

    // Payments.
    PAYMENTS_NOT_FOUND = "payments.not_found", NOT_FOUND, NotFound;
    PAYMENTS_ESCROW_NOT_FOUND = "payments.escrow_not_found", NOT_FOUND, NotFound;
    PAYMENTS_NO_DEAL = "payments.no_deal", CONFLICT, Conflict;
    PAYMENTS_FORBIDDEN = "payments.forbidden", FORBIDDEN, Forbidden;
    PAYMENTS_PROVIDER_OFF = "payments.provider_off", UNPROCESSABLE_ENTITY, ValidationError;
    PAYMENTS_PROVIDER_FAILED = "payments.provider_failed", BAD_GATEWAY, DependencyError;
    PAYMENTS_WRONG_STATUS = "payments.wrong_status", CONFLICT, Conflict;
    PAYMENTS_TOO_MUCH = "payments.too_much", CONFLICT, Conflict;
    PAYMENTS_INSUFFICIENT_FUNDS = "payments.insufficient_funds", CONFLICT, Conflict;
    PAYMENTS_CHANGED = "payments.changed", CONFLICT, Conflict;
    PAYMENTS_KEY_REUSED = "payments.idempotency_key_reused", UNPROCESSABLE_ENTITY, ValidationError;
    PAYMENTS_KEY_IN_PROGRESS = "payments.idempotency_key_in_progress", CONFLICT, Conflict;
    PAYMENTS_WEBHOOK_REFUSED = "payments.webhook_refused", BAD_REQUEST, ValidationError;

    // The AI coach (seed 003).
    AI_OFF = "ai.off", NOT_FOUND, NotFound;
    AI_CONVERSATION_NOT_FOUND = "ai.conversation_not_found", NOT_FOUND, NotFound;
    AI_REQUEST_NOT_FOUND = "ai.request_not_found", NOT_FOUND, NotFound;
    AI_FAILED = "ai.failed", BAD_GATEWAY, AiServiceError;
    AI_UNAVAILABLE = "ai.unavailable", SERVICE_UNAVAILABLE, AiServiceError;

    // The job queue's dashboard.
    JOBS_NOT_FOUND = "jobs.not_found", NOT_FOUND, NotFound;
    JOBS_RUNNING = "jobs.running", CONFLICT, Conflict;
    JOBS_WRONG_STATE = "jobs.wrong_state", CONFLICT, Conflict;

    // Chats.
    CHAT_NOT_FOUND = "chat.not_found", NOT_FOUND, NotFound;
    CHAT_MEMBER_NOT_FOUND = "chat.member_not_found", NOT_FOUND, NotFound;
    CHAT_MESSAGE_NOT_FOUND = "chat.message_not_found", NOT_FOUND, NotFound;
    CHAT_FORBIDDEN = "chat.forbidden", FORBIDDEN, Forbidden;
    CHAT_NOT_JOINED = "chat.not_joined", FORBIDDEN, Forbidden;
    CHAT_MUTED = "chat.muted", FORBIDDEN, Forbidden;

    // The GraphQL API: what the engine refuses before any resolver runs.
    GRAPHQL_INVALID = "graphql.invalid", BAD_REQUEST, ValidationError;
    GRAPHQL_TOO_DEEP = "graphql.too_deep", BAD_REQUEST, ValidationError;
    GRAPHQL_TOO_COMPLEX = "graphql.too_complex", BAD_REQUEST, ValidationError;
    GRAPHQL_QUERY_TOO_LARGE = "graphql.query_too_large", PAYLOAD_TOO_LARGE, PayloadTooLarge;
    GRAPHQL_BATCHING_OFF = "graphql.batching_off", BAD_REQUEST, ValidationError;
    GRAPHQL_PERSISTED_QUERY_NOT_FOUND = "graphql.persisted_query_not_found", BAD_REQUEST, ValidationError;
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// The rows of docs/errors.md's table: code → (status, type).
    fn documented() -> BTreeMap<String, (u16, String)> {
        let doc = include_str!("../../../../../docs/errors.md");
        doc.lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
                let [code, status, kind, ..] = cells.as_slice() else {
                    return None;
                };
                let code = code.trim().trim_matches('`');
                let status: u16 = status.trim().parse().ok()?;
                let kind = kind.trim().trim_matches('`').to_owned();
                Some((code.to_owned(), (status, kind)))
            })
            .collect()
    }

    #[test]
    fn every_code_has_a_row_in_docs_errors_md_and_every_row_a_code() {
        let documented = documented();
        let mut names = BTreeSet::new();
        for code in ALL {
            assert!(
                names.insert(code.name),
                "{} is in the table twice",
                code.name
            );
            let row = documented.get(code.name);
            assert_eq!(
                row,
                Some(&(code.status.as_u16(), code.kind.as_str().to_owned())),
                "docs/errors.md: `{}` should have a row with status {} and type {}",
                code.name,
                code.status.as_u16(),
                code.kind.as_str()
            );
        }
        for name in documented.keys() {
            assert!(
                names.contains(name.as_str()),
                "docs/errors.md lists `{name}`, which no error has"
            );
        }
    }

    #[test]
    fn codes_are_dotted_lower_case() {
        for code in ALL {
            let ok = code.name.split('.').count() >= 2
                && code
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
            assert!(ok, "{}", code.name);
        }
    }
}
