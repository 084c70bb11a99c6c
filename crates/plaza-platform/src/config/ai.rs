//! The AI coach's model (issue 18): plaza's offline coach unless an
//! OpenAI-compatible chat-completions endpoint is configured (OpenAI,
//! Ollama, vLLM, a llama.cpp server), with its retry policy, breaker and
//! price table.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Config, HumanDuration, Secret};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AiConfig {
    /// `offline` (plaza's rule-based coach and planner, no key needed) or
    /// `openai` (any OpenAI-compatible endpoint at `base_url`).
    pub provider: String,
    /// The API's root: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1`
    /// (vLLM, llama.cpp); `/chat/completions` is added.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (local servers need none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    pub model: String,
    /// One attempt's limit: the whole answer, or a stream's first byte.
    pub timeout: HumanDuration,
    /// A stream that sends nothing this long is given up.
    pub stream_idle_timeout: HumanDuration,
    /// Attempts after the first, on 429, 5xx, timeouts and refused
    /// connections, with jittered backoff or the server's `Retry-After`.
    pub retries: u32,
    pub retry_base: HumanDuration,
    /// A `Retry-After` longer than this is not waited for: the call fails
    /// at once as unavailable, saying when to come back.
    pub max_retry_after: HumanDuration,
    /// Failed calls in a row that open the circuit…
    pub breaker_failures: u32,
    /// …for this long, refusing calls at once.
    pub breaker_cooldown: HumanDuration,
    /// The answer's length limit (`max_tokens`).
    pub max_tokens: u32,
    /// How long `POST /api/ai/enhanced-chat` waits for the answer before it
    /// says 202 with the request's id.
    pub inline_wait: HumanDuration,
    /// Earlier messages of the conversation sent with a new one.
    pub history: u32,
    /// US dollars per million tokens, by model name; a model not listed
    /// (a local one) costs nothing.
    pub prices: BTreeMap<String, Price>,
}

/// A model's price, in US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    pub input: f64,
    /// Per million completion tokens.
    pub output: f64,
}

impl AiConfig {
    /// Whether a model answers (rather than the offline coach).
    pub fn online(&self) -> bool {
        self.provider == "openai"
    }
}

impl Default for AiConfig {
    fn default() -> Self {
        let price = |input, output| Price { input, output };
        Self {
            provider: "offline".into(),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            model: "gpt-4o-mini".into(),
            timeout: HumanDuration(Duration::from_secs(60)),
            stream_idle_timeout: HumanDuration(Duration::from_secs(30)),
            retries: 2,
            retry_base: HumanDuration(Duration::from_millis(500)),
            max_retry_after: HumanDuration(Duration::from_secs(20)),
            breaker_failures: 5,
            breaker_cooldown: HumanDuration(Duration::from_secs(30)),
            max_tokens: 1200,
            inline_wait: HumanDuration(Duration::from_secs(20)),
            history: 12,
            prices: BTreeMap::from([
                ("gpt-4o-mini".into(), price(0.15, 0.60)),
                ("gpt-4o".into(), price(2.50, 10.00)),
                ("gpt-4.1-mini".into(), price(0.40, 1.60)),
                ("gpt-4.1".into(), price(2.00, 8.00)),
            ]),
        }
    }
}

impl Config {
    pub(super) fn validate_ai(&self, bad: &mut impl FnMut(&str, String)) {
        let ai = &self.ai;
        match ai.provider.as_str() {
            "offline" => {}
            "openai" => {
                let url = ai.base_url.trim();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    bad("ai.base_url", format!("`{url}` is not an http(s) address"));
                }
                if ai.model.trim().is_empty() {
                    bad(
                        "ai.model",
                        "name the model (e.g. gpt-4o-mini, llama3.1)".into(),
                    );
                }
            }
            other => bad("ai.provider", format!("`{other}` is not offline or openai")),
        }
        if ai.timeout.0.is_zero() || ai.stream_idle_timeout.0.is_zero() {
            bad("ai.timeout", "timeouts must be more than 0".into());
        }
        if ai.retries > 10 {
            bad("ai.retries", "at most 10".into());
        }
        if ai.max_tokens == 0 {
            bad("ai.max_tokens", "must be more than 0".into());
        }
        if ai.inline_wait.0 > Duration::from_secs(120) {
            bad(
                "ai.inline_wait",
                "at most 120s (the answer comes later anyway)".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.sentry.sample_rate) {
            bad("sentry.sample_rate", "a share between 0 and 1".into());
        }
        if let Some(dsn) = &self.sentry.dsn
            && dsn.expose().parse::<sentry::types::Dsn>().is_err()
        {
            bad(
                "sentry.dsn",
                "not a DSN (https://<key>@<host>/<project>)".into(),
            );
        }
        for (model, p) in &ai.prices {
            let fine = |v: f64| v.is_finite() && v >= 0.0;
            if !(fine(p.input) && fine(p.output)) {
                bad(
                    "ai.prices",
                    format!("`{model}`: prices are dollars per million tokens, 0 or more"),
                );
            }
        }
    }
}
