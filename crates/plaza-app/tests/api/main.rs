//! Black-box tests: the real router on a random local port, driven over
//! HTTP like a client. Tests marked `#[ignore = "needs …"]` use the real
//! PostgreSQL or Redis; `.ci/run` starts them and runs these too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adversary;
mod attachments;
mod auth;
mod chat_events;
mod chat_members;
mod chats;
mod coach;
mod coach_model;
mod errors;
mod escrow;
mod events;
mod export;
mod fake_openai;
mod faults;
mod files;
mod fitness;
mod fitness_reminders;
mod graphql;
mod graphql_ws;
mod health;
mod helpers;
mod input;
mod jobs;
mod ledger;
mod meditation;
mod meditation_rooms;
mod middleware;
mod migrations;
mod notifications;
mod oauth;
mod openapi;
mod payment_providers;
mod payments;
mod profiles;
mod projects;
mod ratelimit;
mod reactions;
mod realtime;
mod recovery;
mod sessions;
mod shutdown;
mod two_factor;
mod upload_bombs;
mod users;
mod web;
