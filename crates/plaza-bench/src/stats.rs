//! `GET /api/user/stats` per second against a running plaza: `users`
//! accounts each finish a few sessions, then every connection reads its
//! account's stats as fast as it can — from the cache after the first read.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::drive::{Step, drive};

pub async fn run(
    base: String,
    users: usize,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let client = crate::client(connections)?;
    let run = crate::uuid_like();
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        let body = crate::sign_up(&client, &base, &format!("stats-{run}-{i}@example.com")).await?;
        let token = body["access_token"].as_str().unwrap_or_default().to_owned();
        for kind in ["breathing", "focus", "sleep"] {
            for path in ["start", "end"] {
                let body = if path == "start" {
                    json!({"type": kind})
                } else {
                    json!({"mood_after": 4})
                };
                let res = client
                    .post(format!("{base}/api/meditation/{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(res.status().is_success(), "{path} failed: {}", res.status());
            }
        }
        tokens.push(Arc::new(token));
    }
    let url = Arc::new(format!("{base}/api/user/stats"));
    let report = drive(connections, duration, |i| {
        let (client, url, token) = (client.clone(), url.clone(), tokens[i % users].clone());
        Box::new(move || -> Step {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            Box::pin(async move {
                match client
                    .get(url.as_str())
                    .bearer_auth(token.as_str())
                    .send()
                    .await
                {
                    Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                    Err(_) => false,
                }
            })
        })
    })
    .await?;
    println!("{report}");
    Ok(())
}
