//! A local OpenAI-compatible endpoint for the coach's tests, speaking the
//! real wire format: `POST /v1/chat/completions` with a bearer key, whole
//! `chat.completion` answers with `usage`, `chat.completion.chunk` server-
//! sent events ending in a usage chunk and `[DONE]`, and errors as
//! `{"error": {"message", "type", "code"}}` with `Retry-After`. Each call
//! takes the next scripted reply (or the default) and is recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

pub const KEY: &str = "sk-test-fake";
pub const MODEL: &str = "gpt-4o-mini";

/// What one call answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An answer with this text, this usage (prompt, completion).
    Text(String, (i64, i64)),
    /// An error status with its `Retry-After`, `code` and message.
    Error(
        u16,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
    ),
    /// The same after a pause.
    Slow(Duration, Box<Reply>),
    /// A 200 whose body is not a completion.
    Garbage,
}

impl Reply {
    pub fn text(t: &str) -> Self {
        Self::Text(t.to_owned(), (1000, 500))
    }
}

/// One call as the fake saw it.
#[derive(Clone, Debug)]
pub struct Call {
    pub at: Instant,
    pub body: Value,
    pub authorized: bool,
}

impl Call {
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_owned(),
                    m["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The last user message.
    pub fn question(&self) -> String {
        self.messages()
            .into_iter()
            .rev()
            .find(|(r, _)| r == "user")
            .unwrap()
            .1
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    calls: Vec<Call>,
    /// Pause between stream chunks.
    chunk_pause: Duration,
}

#[derive(Clone, Default)]
pub struct Fake(Arc<Mutex<Inner>>);

impl Fake {
    /// Starts the fake; its base URL (`…/v1`).
    pub async fn start(default: Reply) -> (Self, String) {
        let fake = Fake::default();
        fake.0.lock().unwrap().default = Some(default);
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (fake, base)
    }

    /// The next calls answer these, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.0.lock().unwrap().script.extend(replies);
    }

    pub fn chunk_pause(&self, pause: Duration) {
        self.0.lock().unwrap().chunk_pause = pause;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }
}

/// The app's configuration for this fake.
pub fn configure(config: &mut plaza_platform::config::Config, base: &str) {
    config.ai.provider = "openai".into();
    config.ai.base_url = base.to_owned();
    config.ai.api_key = Some(plaza_platform::config::Secret::new(KEY));
    config.ai.model = MODEL.into();
    config.ai.retry_base = plaza_platform::config::HumanDuration(Duration::from_millis(20));
}

async fn completions(State(fake): State<Fake>, headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {KEY}"));
    let (reply, pause) = {
        let mut inner = fake.0.lock().unwrap();
        inner.calls.push(Call {
            at: Instant::now(),
            body: body.clone(),
            authorized,
        });
        let reply = inner
            .script
            .pop_front()
            .or_else(|| inner.default.clone())
            .unwrap();
        (reply, inner.chunk_pause)
    };
    if !authorized {
        return error(
            401,
            None,
            Some("invalid_api_key"),
            "Incorrect API key provided",
        );
    }
    answer(reply, body["stream"] == true, pause).await
}

async fn answer(reply: Reply, stream: bool, pause: Duration) -> Response {
    let mut reply = reply;
    while let Reply::Slow(d, inner) = reply {
        tokio::time::sleep(d).await;
        reply = *inner;
    }
    match reply {
        Reply::Text(text, usage) if stream => streamed(text, usage, pause),
        Reply::Text(text, (prompt, completion)) => axum::Json(json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_733_000_000, "model": format!("{MODEL}-2024-07-18"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }))
        .into_response(),
        Reply::Error(status, retry_after, code, message) => error(status, retry_after, code, message),
        Reply::Garbage => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "<html>oops</html>").into_response(),
        Reply::Slow(..) => unreachable!(),
    }
}

fn error(
    status: u16,
    retry_after: Option<&'static str>,
    code: Option<&'static str>,
    message: &str,
) -> Response {
    let mut res = (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"error": {"message": message, "type": "server_error", "param": null, "code": code}})),
    )
        .into_response();
    if let Some(after) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, after.parse().unwrap());
    }
    res
}

/// The answer as `chat.completion.chunk` events, a piece per word.
fn streamed(text: String, (prompt, completion): (i64, i64), pause: Duration) -> Response {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_733_000_000,
               "model": format!("{MODEL}-2024-07-18"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null})
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in text.split_inclusive(' ') {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    events.push(json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_733_000_000,
        "model": format!("{MODEL}-2024-07-18"), "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}));
    let mut frames: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    frames.push("data: [DONE]\n\n".into());
    let body = futures_util::stream::iter(frames).then(move |frame| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::convert::Infallible>(frame)
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}
