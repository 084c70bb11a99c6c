//! The AI port (issue 18): chat completions from any OpenAI-compatible
//! endpoint — OpenAI, Ollama, vLLM, a llama.cpp server — with timeouts,
//! jittered retries that honour `Retry-After`, a circuit breaker,
//! streaming, and token usage priced from the configured table. Knows no
//! domain: the product writes the prompts, and answers offline when no
//! model is configured.

mod client;
pub mod sse;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

pub use client::Client;

use crate::config::Price;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation as the model reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// An answer held to a JSON Schema (`response_format: json_schema`,
/// strict): the schema's name and the schema.
#[derive(Clone, Debug)]
pub struct Schema {
    pub name: &'static str,
    pub schema: serde_json::Value,
}

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub messages: Vec<Message>,
    pub schema: Option<Schema>,
}

/// Tokens read and written, as the endpoint reported them (or estimated
/// at four characters a token when it did not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input: i64,
    pub output: i64,
}

#[derive(Clone, Debug)]
pub struct Completion {
    pub text: String,
    /// The model that answered, as the endpoint names it.
    pub model: String,
    pub usage: Usage,
    /// Millionths of a US dollar, from the price table.
    pub cost_micros: i64,
    /// Calls made, retries included.
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// Trying again later may help: the endpoint is overloaded, down or
    /// slow, or the circuit is open; `retry_after` when it is known.
    #[error("the model is unavailable: {reason}")]
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying the same call again will not help: the endpoint refused it
    /// (a wrong key, an unknown model, no quota left) or answered
    /// something that is not a completion.
    #[error("the model failed: {0}")]
    Failed(String),
}

impl AiError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// What `usage` costs on `model`, in millionths of a dollar: a price per
/// million tokens is a price in micro-dollars per token. The configured
/// name is looked up first, then the longest listed prefix of it
/// (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`).
pub fn cost_micros(prices: &BTreeMap<String, Price>, model: &str, usage: Usage) -> i64 {
    let price = prices.get(model).or_else(|| {
        prices
            .iter()
            .filter(|(name, _)| model.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| p)
    });
    let Some(p) = price else {
        return 0;
    };
    let cost = usage.input as f64 * p.input + usage.output as f64 * p.output;
    cost.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_tokens_times_the_price_per_million_with_prefixes_for_dated_models() {
        let prices = crate::config::AiConfig::default().prices;
        let usage = Usage {
            input: 1_000,
            output: 500,
        };
        // 1000 × 0.15 + 500 × 0.60 = 450 micro-dollars.
        assert_eq!(cost_micros(&prices, "gpt-4o-mini", usage), 450);
        assert_eq!(cost_micros(&prices, "gpt-4o-mini-2024-07-18", usage), 450);
        // 1000 × 2.5 + 500 × 10 = 7500: `gpt-4o` is not `gpt-4o-mini`.
        assert_eq!(cost_micros(&prices, "gpt-4o-2024-08-06", usage), 7_500);
        assert_eq!(cost_micros(&prices, "llama3.1:8b", usage), 0);
    }
}
