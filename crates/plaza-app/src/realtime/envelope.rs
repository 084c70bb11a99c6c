//! The frames' wire format, shared by every socket: a client's frame is
//! `{"type": …, "data": {…}, "id"?: …}`, an `error` frame's data carries
//! DESIGN §3's fields, and `data` parses with a 422 naming the field.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::ApiError;

/// A client's frame, its `data` still to be parsed.
#[derive(Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub id: Option<Value>,
}

impl Envelope {
    /// A client's frame as it came: larger than `limit` → 413, a NUL in
    /// any string → 422 (as over REST), not an envelope → 400.
    pub fn read(text: &str, limit: u64) -> Result<Self, ApiError> {
        if text.len() as u64 > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        crate::http::extract::refuse_nul(text.as_bytes())?;
        serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))
    }
}

/// The token of an `auth` frame.
pub fn auth_token(text: &str) -> Option<String> {
    let envelope: Envelope = serde_json::from_str(text).ok()?;
    if envelope.kind != "auth" {
        return None;
    }
    envelope.data.get("token")?.as_str().map(str::to_owned)
}

/// An `error` frame's data: DESIGN §3's fields.
pub fn error_data(e: &ApiError, now: plaza_core::Timestamp) -> Value {
    json!({
        "error": e.message(),
        "type": e.kind(),
        "code": e.code(),
        "status": e.status().as_u16(),
        "details": e.details(),
        "timestamp": now,
    })
}

/// A frame's `data` as `T`, or a 422 naming the field.
pub fn parse<T: DeserializeOwned>(data: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::validation(format!("data: {inner}"))
        } else {
            ApiError::invalid_field(&path, inner)
        }
    })
}
