//! Passwords: the rules a new one must meet, and argon2id hashing run off
//! the async threads on the CPU pool (one hash per core at a time), so a
//! burst of sign-ins can neither exhaust memory (19 MiB each) nor stall
//! other requests.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use plaza_platform::cpu::CpuPool;

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// A password that meets the rules: 8 to 128 characters, kept whole (never
/// truncated), not one of the common passwords shipped with plaza, no
/// composition rules (NIST SP 800-63B).
#[derive(Clone)]
pub struct Password(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("password must be at least {min} characters", min = Password::MIN)]
    TooShort,
    #[error("password must be at most {max} characters", max = Password::MAX)]
    TooLong,
    #[error("this password is too common; choose another")]
    TooCommon,
}

/// The list, compared ignoring case.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect()
});

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn parse(raw: impl Into<String>) -> Result<Self, PasswordRuleError> {
        let raw = raw.into();
        let chars = raw.chars().count();
        if chars < Self::MIN {
            return Err(PasswordRuleError::TooShort);
        }
        if chars > Self::MAX {
            return Err(PasswordRuleError::TooLong);
        }
        if COMMON.contains(raw.to_lowercase().as_str()) {
            return Err(PasswordRuleError::TooCommon);
        }
        Ok(Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl<'de> serde::Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(raw).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(********)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing was interrupted")]
    Interrupted,
}

/// Hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane) on
/// the CPU pool, so at most one hash per pool thread runs at a time.
#[derive(Clone, Debug)]
pub struct Passwords {
    pool: CpuPool,
    /// A hash of nothing anyone knows, verified against when an account does
    /// not exist, so that answer takes as long as a wrong password.
    dummy: Arc<tokio::sync::OnceCell<String>>,
}

impl Passwords {
    pub fn new(pool: CpuPool) -> Self {
        Self {
            pool,
            dummy: Arc::default(),
        }
    }

    /// Spends the time of a verification and answers `false`.
    pub async fn verify_nothing(&self, password: &str) -> Result<bool, HashError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|e| HashError::Argon2(e.to_string()))?;
                let unknowable: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let password = Password(SecretString::from(unknowable));
                self.hash(&password).await
            })
            .await?;
        self.verify(password, dummy).await?;
        Ok(false)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let secret = password.0.clone();
        self.run(move || hash_now(secret.expose_secret().as_bytes()))
            .await
    }

    /// Whether `password` matches `phc`. A malformed stored hash is an error,
    /// not a mismatch.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        let secret = SecretString::from(password.to_owned());
        let phc = phc.to_owned();
        self.run(move || verify_now(secret.expose_secret().as_bytes(), &phc))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        self.pool
            .run(work)
            .await
            .map_err(|_| HashError::Interrupted)?
    }
}

thread_local! {
    /// Each pool thread's argon2 working memory (19 MiB with OWASP's
    /// parameters), allocated once and reused: allocating and freeing it per
    /// hash left the allocator holding hundreds of MiB after a burst.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn argon2_error(e: impl std::fmt::Display) -> HashError {
    HashError::Argon2(e.to_string())
}

/// Runs `argon2` over this thread's reusable memory.
fn with_memory(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != params.block_count() {
            *memory = vec![Block::default(); params.block_count()];
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .map_err(argon2_error)
    })
}

fn hash_now(password: &[u8]) -> Result<String, HashError> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(argon2_error)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(&argon2, &params, password, &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(argon2_error)?,
        salt: Some(Salt::new(&salt).map_err(argon2_error)?),
        hash: Some(Output::new(&out).map_err(argon2_error)?),
    };
    Ok(phc.to_string())
}

fn verify_now(password: &[u8], phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(argon2_error)?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(argon2_error)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(argon2_error)?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(argon2_error)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::Argon2(
            "the stored hash has no salt or output".into(),
        ));
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    with_memory(&argon2, &params, password, salt.as_ref(), &mut out)?;
    // Output compares in constant time.
    Ok(Output::new(&out).map_err(argon2_error)? == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_characters_not_bytes() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            PasswordRuleError::TooShort
        );
        assert!(Password::parse("ёжик в тумане").is_ok());
        assert!(
            Password::parse("пароль!").is_err(),
            "7 characters, 13 bytes"
        );
        assert!(Password::parse("x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse("x".repeat(129)).unwrap_err(),
            PasswordRuleError::TooLong
        );
        for common in ["password1", "12345678", "QwertyUIOP"] {
            assert_eq!(
                Password::parse(common).unwrap_err(),
                PasswordRuleError::TooCommon,
                "{common}"
            );
        }
        assert_eq!(
            format!("{:?}", Password::parse("correct horse").unwrap()),
            "Password(********)"
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let passwords = Passwords::new(CpuPool::new("test-hash", 2).unwrap());
        let pw = Password::parse("correct horse battery").unwrap();
        let (a, b) = tokio::join!(passwords.hash(&pw), passwords.hash(&pw));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(passwords.verify("correct horse battery", &a).await.unwrap());
        assert!(
            !passwords
                .verify("correct horse battery!", &a)
                .await
                .unwrap()
        );
        assert!(passwords.verify("x", "not a phc string").await.is_err());
        // Hashes made by the argon2 crate's own hasher still verify.
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(
            passwords
                .verify("correct horse battery", &theirs)
                .await
                .unwrap()
        );
        assert!(!passwords.verify("correct horse", &theirs).await.unwrap());
    }
}
