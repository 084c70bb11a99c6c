//! Secrets plaza must read back (a TOTP seed) kept sealed in the database:
//! AES-256-GCM (ring) with a fresh random 96-bit nonce per value, and the
//! row the value belongs to as associated data, so a sealed value copied
//! onto another row does not open. A value reads
//! `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`; the key id
//! (from the key, revealing nothing of it) says which key opens it, so a
//! key can be replaced while values sealed with the old one still open
//! and are re-sealed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;

const PREFIX: &str = "sealed:v1:";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no key this node holds sealed it (key id {0})")]
    UnknownKey(String),
    #[error("the sealed value is damaged, or belongs to another row")]
    Damaged,
    #[error("no randomness: {0}")]
    Random(#[from] getrandom::Error),
}

/// A value opened: its text, and whether it should be sealed again (with
/// an older key, or not sealed at all — written before sealing existed).
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    pub text: String,
    pub stale: bool,
}

struct Key {
    id: String,
    key: LessSafeKey,
}

impl Key {
    /// Derives the AES key and its id from `secret` (HKDF-SHA256).
    fn derive(secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"plaza seal v1").extract(secret);
        let mut aes = [0u8; 32];
        let mut id = [0u8; 4];
        for (info, out) in [
            (&b"aes-256-gcm"[..], &mut aes[..]),
            (b"key id", &mut id[..]),
        ] {
            let info = [info];
            let okm = prk
                .expand(&info, Len(out.len()))
                .unwrap_or_else(|_| unreachable!("HKDF output within 255 blocks"));
            okm.fill(out)
                .unwrap_or_else(|_| unreachable!("HKDF fills the length asked"));
        }
        let key = UnboundKey::new(&AES_256_GCM, &aes)
            .unwrap_or_else(|_| unreachable!("32 bytes is an AES-256 key"));
        Self {
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
            key: LessSafeKey::new(key),
        }
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// Seals with one key and opens with any it holds.
pub struct Sealer {
    current: Key,
    older: Vec<Key>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &self.current.id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// Seals with `current`; opens with it and with each of `older`.
    pub fn new(current: &[u8], older: &[&[u8]]) -> Self {
        Self {
            current: Key::derive(current),
            older: older.iter().map(|s| Key::derive(s)).collect(),
        }
    }

    /// How every value it seals begins (for a `LIKE` finding the others:
    /// key ids are hex, never a wildcard).
    pub fn sealed_prefix(&self) -> String {
        format!("{PREFIX}{}:", self.current.id)
    }

    /// `text` sealed for the row named by `context` (e.g.
    /// `user_totp.secret:<user id>`).
    pub fn seal(&self, text: &str, context: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let mut data = text.as_bytes().to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Damaged)?;
        let mut out = Vec::with_capacity(NONCE_LEN + data.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// What `stored` holds for the row named by `context`. A value that is
    /// not sealed (written before sealing) is returned as it is, marked
    /// stale.
    pub fn open(&self, stored: &str, context: &str) -> Result<Opened, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(Opened {
                text: stored.to_owned(),
                stale: true,
            });
        };
        let (id, body) = rest.split_once(':').ok_or(SealError::Damaged)?;
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let mut data = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Damaged)?;
        if data.len() < NONCE_LEN {
            return Err(SealError::Damaged);
        }
        let mut sealed = data.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&data).map_err(|_| SealError::Damaged)?;
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| SealError::Damaged)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| SealError::Damaged)?;
        Ok(Opened {
            text,
            stale: key.id != self.current.id,
        })
    }
}

/// Where the keys come from: `auth.encryption_key` (and the one it
/// replaced) when set, else a random key kept in the database, made on
/// first use so every node shares it. The database's key, if there is one,
/// opens too, so setting a key after running without one loses nothing.
pub async fn load(
    db: &crate::db::Db,
    config: &crate::config::AuthConfig,
    now: plaza_core::Timestamp,
) -> Result<Sealer, sqlx::Error> {
    let stored = stored_key(db).await?;
    let Some(current) = &config.encryption_key else {
        let secret = match stored {
            Some(secret) => secret,
            None => {
                let secret = crate::secret::random_token()
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                // Nodes starting together race here; the first insert wins.
                sqlx::query(
                    "INSERT INTO encryption_keys (kid, secret, created_at) VALUES ('db-1', $1, $2) \
                     ON CONFLICT (kid) DO NOTHING",
                )
                .bind(&secret)
                .bind(now)
                .execute(db.writer())
                .await?;
                stored_key(db)
                    .await?
                    .ok_or_else(|| sqlx::Error::Protocol("encryption key vanished".into()))?
            }
        };
        return Ok(Sealer::new(secret.as_bytes(), &[]));
    };
    let mut older: Vec<&[u8]> = Vec::new();
    if let Some(previous) = &config.previous_encryption_key {
        older.push(previous.expose().as_bytes());
    }
    if let Some(stored) = &stored {
        older.push(stored.as_bytes());
    }
    Ok(Sealer::new(current.expose().as_bytes(), &older))
}

async fn stored_key(db: &crate::db::Db) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret FROM encryption_keys WHERE kid = 'db-1'")
        .fetch_optional(db.writer())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"the first key, thirty-two bytes or more";
    const B: &[u8] = b"the second key, also thirty-two bytes long";

    #[test]
    fn a_sealed_value_opens_only_for_its_row_and_with_its_key() {
        let sealer = Sealer::new(A, &[]);
        let sealed = sealer
            .seal("JBSWY3DPEHPK3PXP", "user_totp.secret:u1")
            .unwrap();
        assert!(sealed.starts_with("sealed:v1:"), "{sealed}");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        // A fresh nonce each time: the same secret never seals the same.
        assert_ne!(
            sealed,
            sealer
                .seal("JBSWY3DPEHPK3PXP", "user_totp.secret:u1")
                .unwrap()
        );
        let opened = sealer.open(&sealed, "user_totp.secret:u1").unwrap();
        assert_eq!(
            opened,
            Opened {
                text: "JBSWY3DPEHPK3PXP".into(),
                stale: false
            }
        );

        // Copied onto another row, tampered with, or cut short: refused.
        assert!(matches!(
            sealer.open(&sealed, "user_totp.secret:u2"),
            Err(SealError::Damaged)
        ));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(matches!(
            sealer.open(&tampered, "user_totp.secret:u1"),
            Err(SealError::Damaged)
        ));
        let cut = &sealed[..sealed.len() - 30];
        assert!(sealer.open(cut, "user_totp.secret:u1").is_err());
        assert!(sealer.open("sealed:v1:nocolon", "x").is_err());

        // Another deployment's key does not open it, and says why.
        let other = Sealer::new(B, &[]);
        assert!(matches!(
            other.open(&sealed, "user_totp.secret:u1"),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_replaced_key_still_opens_and_asks_for_a_new_seal() {
        let old = Sealer::new(A, &[]);
        let sealed = old.seal("secret", "ctx").unwrap();
        let rotated = Sealer::new(B, &[A]);
        assert_ne!(rotated.sealed_prefix(), old.sealed_prefix());
        assert_eq!(
            rotated.open(&sealed, "ctx").unwrap(),
            Opened {
                text: "secret".into(),
                stale: true
            }
        );
        let resealed = rotated.seal("secret", "ctx").unwrap();
        assert!(!rotated.open(&resealed, "ctx").unwrap().stale);
        assert!(resealed.starts_with(&rotated.sealed_prefix()));
        assert!(!sealed.starts_with(&rotated.sealed_prefix()));
        // A value from before sealing is read as it is, and marked stale.
        assert_eq!(
            rotated.open("JBSWY3DP", "ctx").unwrap(),
            Opened {
                text: "JBSWY3DP".into(),
                stale: true
            }
        );
    }
}
