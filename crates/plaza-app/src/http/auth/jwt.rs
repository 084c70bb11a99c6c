//! Access tokens: HS256 JWTs, 15 minutes by default, naming the session they
//! belong to so revoking it stops them at once.
//!
//! Exactly one algorithm and one key (`kid`) are accepted; `alg: none`,
//! another algorithm, an unknown key, another issuer or audience, a future
//! `nbf` and any token that is not an access token are refused. Times are
//! checked against plaza's clock, not the library's, so tests can move it.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use plaza_core::{Role, SessionId, Timestamp, UserId};
use plaza_platform::config::AuthConfig;
use plaza_platform::db::Db;
use serde::{Deserialize, Serialize};

use plaza_platform::secret::{random_token, token_hash};

const ALGORITHM: Algorithm = Algorithm::HS256;
const TOKEN_TYPE: &str = "access";
/// Tolerated clock difference between nodes for `nbf`.
const NBF_LEEWAY_SECS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: UserId,
    pub sid: SessionId,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed")]
    Malformed,
    #[error("the access token is signed with an algorithm or key this server does not accept")]
    WrongKey,
    #[error("the access token's signature is invalid")]
    BadSignature,
    #[error("the access token is for another issuer or audience")]
    WrongAudience,
    #[error("this is not an access token")]
    NotAccess,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token has expired")]
    Expired,
    #[error("the session has ended; sign in again")]
    Revoked,
    #[error("the access token names no session of its user")]
    UnknownSession,
}

/// Signs and checks access tokens with the deployment's one key.
pub struct Signer {
    kid: String,
    /// For signed links (files in an `<img>`), derived from the secret.
    link_key: [u8; 32],
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    pub fn new(kid: String, secret: &[u8], config: &AuthConfig) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Checked below against plaza's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let link_key = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(b"plaza signed links v1\0");
            h.update(secret);
            h.finalize().into()
        };
        Self {
            kid,
            link_key,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        }
    }

    /// The key from configuration when set; otherwise the one kept in the
    /// database, made on first use. Every node ends up with the same key.
    pub async fn load(db: &Db, config: &AuthConfig, now: Timestamp) -> Result<Self, sqlx::Error> {
        if let Some(secret) = &config.jwt_secret {
            // The kid names the key without revealing it.
            let digest = token_hash(secret.expose());
            let kid = format!("cfg-{}", &digest[..12]);
            return Ok(Self::new(kid, secret.expose().as_bytes(), config));
        }
        let stored = load_stored(db).await?;
        let (kid, secret) = match stored {
            Some(found) => found,
            None => {
                let secret = random_token().map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                // Nodes starting together race here; the first insert wins
                // and everyone reads it back.
                sqlx::query(
                    "INSERT INTO signing_keys (kid, secret, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (kid) DO NOTHING",
                )
                .bind("db-1")
                .bind(&secret)
                .bind(now)
                .execute(db.writer())
                .await?;
                load_stored(db)
                    .await?
                    .ok_or_else(|| sqlx::Error::Protocol("signing key vanished".into()))?
            }
        };
        Ok(Self::new(kid, secret.as_bytes(), config))
    }

    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        session: SessionId,
        now: Timestamp,
        ttl: std::time::Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.unix_seconds();
        let claims = AccessClaims {
            sub: user,
            sid: session,
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat,
            nbf: iat,
            exp: now.saturating_add(ttl).unix_seconds(),
            typ: TOKEN_TYPE.into(),
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The claims of a valid access token (revocation is checked elsewhere).
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AccessClaims, TokenError> {
        // `alg: none` and unknown algorithms fail to parse here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != ALGORITHM || header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(TokenError::WrongKey);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => TokenError::BadSignature,
                    K::InvalidAlgorithm | K::InvalidKeyFormat => TokenError::WrongKey,
                    K::InvalidAudience | K::InvalidIssuer => TokenError::WrongAudience,
                    _ => TokenError::Malformed,
                }
            })?;
        let claims = data.claims;
        if claims.typ != TOKEN_TYPE {
            return Err(TokenError::NotAccess);
        }
        let now = now.unix_seconds();
        if claims.nbf > now + NBF_LEEWAY_SECS {
            return Err(TokenError::NotYetValid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

impl Signer {
    /// An HMAC-SHA256 of `message` (base64url), for a link that proves
    /// itself without a bearer token.
    pub fn sign_link(&self, message: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let tag = self.link_mac(message).finalize().into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    }

    /// Whether `signature` is [`Signer::sign_link`]'s for `message`
    /// (compared in constant time).
    pub fn verify_link(&self, message: &str, signature: &str) -> bool {
        use base64::Engine;
        use hmac::Mac;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .is_ok_and(|given| self.link_mac(message).verify_slice(&given).is_ok())
    }

    fn link_mac(&self, message: &str) -> hmac::Hmac<sha2::Sha256> {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.link_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(message.as_bytes());
        mac
    }
}

async fn load_stored(db: &Db) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT kid, secret FROM signing_keys ORDER BY created_at DESC, kid LIMIT 1")
        .fetch_optional(db.writer())
        .await
}

#[cfg(test)]
mod tests;
