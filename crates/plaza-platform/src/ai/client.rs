//! The OpenAI-compatible client: `POST {base_url}/chat/completions`, whole
//! or streamed, behind retries and a breaker, measured per model and
//! outcome.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::sse::Events;
use super::{AiError, Completion, Request, Usage, cost_micros};
use crate::breaker::Breaker;
use crate::config::{AiConfig, Price, Secret};

/// Longest wait between retries when the server gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How much of an error body is read for its message.
const ERROR_BODY_LIMIT: usize = 4096;

pub struct Client {
    http: reqwest::Client,
    url: String,
    key: Option<Secret>,
    model: String,
    timeout: Duration,
    idle: Duration,
    retries: u32,
    retry_base: Duration,
    max_retry_after: Duration,
    cooldown: Duration,
    max_tokens: u32,
    prices: BTreeMap<String, Price>,
    breaker: Breaker,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    transient: bool,
    reason: String,
    retry_after: Option<Duration>,
}

impl Failure {
    fn transient(reason: String) -> Self {
        Self {
            transient: true,
            reason,
            retry_after: None,
        }
    }
}

impl Client {
    /// The configured endpoint's client; `None` when the coach is offline.
    pub fn from_config(c: &AiConfig) -> Result<Option<Self>, reqwest::Error> {
        if !c.online() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("plaza/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Self {
            http,
            url: format!("{}/chat/completions", c.base_url.trim_end_matches('/')),
            key: c.api_key.clone(),
            model: c.model.clone(),
            timeout: c.timeout.0,
            idle: c.stream_idle_timeout.0,
            retries: c.retries,
            retry_base: c.retry_base.0,
            max_retry_after: c.max_retry_after.0,
            cooldown: c.breaker_cooldown.0,
            max_tokens: c.max_tokens,
            prices: c.prices.clone(),
            breaker: Breaker::new("ai", c.breaker_failures, c.breaker_cooldown.0),
        }))
    }

    /// The configured model's name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The whole answer at once.
    pub async fn complete(&self, req: &Request) -> Result<Completion, AiError> {
        let started = Instant::now();
        let result = self.complete_once(req).await;
        self.record(&result, started, "whole");
        result
    }

    /// The answer as it is written: `on_delta` gets each piece of text,
    /// and the whole comes back at the end. Retries happen only before
    /// the first piece.
    pub async fn stream(
        &self,
        req: &Request,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, AiError> {
        let started = Instant::now();
        let result = self.stream_once(req, on_delta).await;
        self.record(&result, started, "stream");
        result
    }

    async fn complete_once(&self, req: &Request) -> Result<Completion, AiError> {
        let (res, attempts) = self.send(&self.body(req, false), false).await?;
        let bytes = res.bytes().await.map_err(|e| AiError::Unavailable {
            reason: format!("the answer broke off: {e}"),
            retry_after: None,
        })?;
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|e| AiError::Failed(format!("the answer is not a chat completion: {e}")))?;
        let text = answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| AiError::Failed("the completion has no message".into()))?;
        let usage = answer
            .usage
            .map_or_else(|| estimate(req, &text), Into::into);
        Ok(self.completion(text, answer.model, usage, attempts))
    }

    async fn stream_once(
        &self,
        req: &Request,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, AiError> {
        let (mut res, attempts) = self.send(&self.body(req, true), true).await?;
        let mut events = Events::new();
        let mut answer = Streamed::default();
        loop {
            let chunk = match tokio::time::timeout(self.idle, res.chunk()).await {
                Err(_) => {
                    return Err(AiError::Unavailable {
                        reason: format!("the stream was silent for {:?}", self.idle),
                        retry_after: None,
                    });
                }
                Ok(Err(e)) => {
                    return Err(AiError::Unavailable {
                        reason: format!("the stream broke off: {e}"),
                        retry_after: None,
                    });
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            for data in events.feed(&chunk) {
                answer.take(&data, on_delta)?;
            }
            if answer.done {
                break;
            }
        }
        if let Some(data) = events.finish() {
            answer.take(&data, on_delta)?;
        }
        if answer.text.is_empty() {
            return Err(AiError::Failed("the stream ended without an answer".into()));
        }
        let usage = answer.usage.unwrap_or_else(|| estimate(req, &answer.text));
        Ok(self.completion(answer.text, answer.model, usage, attempts))
    }

    fn completion(
        &self,
        text: String,
        model: Option<String>,
        usage: Usage,
        attempts: u32,
    ) -> Completion {
        Completion {
            cost_micros: cost_micros(&self.prices, &self.model, usage),
            text,
            model: model.unwrap_or_else(|| self.model.clone()),
            usage,
            attempts,
        }
    }

    fn body(&self, req: &Request, stream: bool) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": req.messages,
            "max_tokens": self.max_tokens,
        });
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        if let Some(s) = &req.schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": s.name, "schema": s.schema, "strict": true},
            });
        }
        body
    }

    /// Sends until an attempt succeeds, one fails for good, the retries
    /// run out, or the breaker refuses; with the attempts made.
    async fn send(&self, body: &Value, stream: bool) -> Result<(reqwest::Response, u32), AiError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if !self.breaker.allow() {
                return Err(AiError::Unavailable {
                    reason: "the circuit is open after repeated failures".into(),
                    retry_after: Some(self.cooldown),
                });
            }
            let failure = match self.attempt(body, stream).await {
                Ok(res) => {
                    self.breaker.success();
                    return Ok((res, attempt));
                }
                Err(f) => f,
            };
            if !failure.transient {
                // The endpoint is up; it refused this call.
                self.breaker.success();
                return Err(AiError::Failed(failure.reason));
            }
            self.breaker.failure();
            let wait = match failure.retry_after {
                Some(after) if after > self.max_retry_after => None,
                Some(after) => Some(after),
                None => Some(crate::jobs::backoff(attempt, self.retry_base, MAX_BACKOFF)),
            };
            let Some(wait) = wait.filter(|_| attempt <= self.retries) else {
                return Err(AiError::Unavailable {
                    reason: failure.reason,
                    retry_after: failure.retry_after,
                });
            };
            metrics::counter!("plaza_ai_retries_total", "model" => self.model.clone()).increment(1);
            tracing::info!(
                model = self.model,
                attempt,
                wait_ms = wait.as_millis() as u64,
                reason = failure.reason,
                "the model failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, body: &Value, stream: bool) -> Result<reqwest::Response, Failure> {
        let mut req = self.http.post(&self.url).json(body);
        if let Some(key) = &self.key {
            req = req.bearer_auth(key.expose());
        }
        if !stream {
            req = req.timeout(self.timeout);
        }
        let res = match tokio::time::timeout(self.timeout, req.send()).await {
            Err(_) => {
                return Err(Failure::transient(format!(
                    "no answer within {:?}",
                    self.timeout
                )));
            }
            Ok(Err(e)) if e.is_timeout() => {
                return Err(Failure::transient(format!(
                    "no answer within {:?}",
                    self.timeout
                )));
            }
            Ok(Err(e)) => {
                return Err(Failure::transient(format!(
                    "cannot reach the endpoint: {e}"
                )));
            }
            Ok(Ok(res)) => res,
        };
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let retry_after = retry_after(res.headers(), std::time::SystemTime::now());
        let (code, message) = error_of(res).await;
        // A spent quota answers 429 too, but waiting will not refill it.
        let transient = (status.as_u16() == 429 && code.as_deref() != Some("insufficient_quota"))
            || status.as_u16() == 408
            || status.is_server_error();
        Err(Failure {
            transient,
            reason: format!("{status}: {message}"),
            retry_after: retry_after.filter(|_| transient),
        })
    }

    fn record(&self, result: &Result<Completion, AiError>, started: Instant, mode: &'static str) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(AiError::Unavailable { .. }) => "unavailable",
            Err(AiError::Failed(_)) => "failed",
        };
        let model = self.model.clone();
        metrics::counter!("plaza_ai_requests_total", "model" => model.clone(), "outcome" => outcome, "mode" => mode)
            .increment(1);
        metrics::histogram!("plaza_ai_request_duration_seconds", "model" => model.clone(), "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        if let Ok(c) = result {
            let tokens = |direction: &'static str, n: i64| {
                metrics::counter!("plaza_ai_tokens_total", "model" => model.clone(), "direction" => direction)
                    .increment(u64::try_from(n).unwrap_or(0));
            };
            tokens("in", c.usage.input);
            tokens("out", c.usage.output);
            metrics::counter!("plaza_ai_cost_micro_usd_total", "model" => model.clone())
                .increment(u64::try_from(c.cost_micros).unwrap_or(0));
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date, or OpenAI's
/// `retry-after-ms`.
pub(super) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = value("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let v = value("retry-after")?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let now = jiff::Timestamp::try_from(now).ok()?;
    let wait = now.until(at).ok()?.total(jiff::Unit::Millisecond).ok()?;
    Some(Duration::from_millis(wait.max(0.0) as u64))
}

/// The error's `code` and message, from OpenAI's
/// `{"error": {"message", "code"}}` or the body's start.
async fn error_of(mut res: reqwest::Response) -> (Option<String>, String) {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match res.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_LIMIT);
    #[derive(Deserialize)]
    struct Wrapper {
        error: ErrorBody,
    }
    if let Ok(w) = serde_json::from_slice::<Wrapper>(&body) {
        return (w.error.code, w.error.message);
    }
    let text = String::from_utf8_lossy(&body);
    let text = text.trim();
    let message = if text.is_empty() {
        "no message".to_owned()
    } else {
        text.chars().take(300).collect()
    };
    (None, message)
}

/// Four characters a token: for endpoints that report no usage.
fn estimate(req: &Request, answer: &str) -> Usage {
    let chars: usize = req.messages.iter().map(|m| m.content.chars().count()).sum();
    let tokens = |n: usize| i64::try_from(n.div_ceil(4)).unwrap_or(i64::MAX);
    Usage {
        input: tokens(chars),
        output: tokens(answer.chars().count()),
    }
}

#[derive(Deserialize)]
struct Answer {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Reported>,
}

#[derive(Deserialize)]
struct Choice {
    message: Said,
}

#[derive(Deserialize)]
struct Said {
    content: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
struct Reported {
    prompt_tokens: i64,
    completion_tokens: i64,
}

impl From<Reported> for Usage {
    fn from(r: Reported) -> Self {
        Self {
            input: r.prompt_tokens,
            output: r.completion_tokens,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Chunk {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<DeltaChoice>,
    usage: Option<Reported>,
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct DeltaChoice {
    #[serde(default)]
    delta: Delta,
}

#[derive(Default, Deserialize)]
struct Delta {
    content: Option<String>,
}

/// A streamed answer so far.
#[derive(Default)]
struct Streamed {
    text: String,
    model: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl Streamed {
    fn take(&mut self, data: &str, on_delta: &mut (dyn FnMut(&str) + Send)) -> Result<(), AiError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| AiError::Failed(format!("a stream chunk is not JSON: {e}")))?;
        if let Some(e) = chunk.error {
            return Err(AiError::Failed(format!(
                "the stream reported: {}",
                e.message
            )));
        }
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(u.into());
        }
        for c in chunk.choices {
            if let Some(piece) = c.delta.content.filter(|p| !p.is_empty()) {
                on_delta(&piece);
                self.text.push_str(&piece);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn retry_after_in_seconds_milliseconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let of = |name: &'static str, v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(v));
            retry_after(&h, now)
        };
        assert_eq!(of("retry-after", "7"), Some(Duration::from_secs(7)));
        assert_eq!(
            of("retry-after-ms", "250"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            of("retry-after", "Sun, 06 Nov 1994 08:49:40 GMT"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            of("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(of("retry-after", "soon"), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
