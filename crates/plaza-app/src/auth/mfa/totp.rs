//! RFC 6238 time-based codes through `totp-rs`: SHA-1, 6 digits, 30-second
//! steps, one step of clock drift either way.

use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const ISSUER: &str = "plaza";

/// A fresh 160-bit secret, base32 as authenticator apps take it.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(Secret::new_stack(bytes).to_base32())
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// `otpauth://totp/plaza:<account>?secret=…&issuer=plaza`, for a QR code.
pub fn otpauth_url(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account)?.to_url().ok()
}

/// The step a code matches at `unix_seconds`, if any.
pub fn check(secret_base32: &str, code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_base32, "user")?.check(code, unix_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, 8 digits, with its 20-byte ASCII key.
    #[test]
    fn rfc_6238_vectors() {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_step_duration(30)
            .with_secret(Secret::new(
                b"12345678901234567890".to_vec().into_boxed_slice(),
            ))
            .with_account_name("rfc")
            .build()
            .unwrap();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "T = {time}");
        }
    }

    #[test]
    fn codes_match_within_one_step_of_drift() {
        let secret = new_secret().unwrap();
        let t = 1_800_000_000u64;
        let now = totp(&secret, "a").unwrap().generate(t).to_string();
        assert_eq!(check(&secret, &now, t), Some(t / 30));
        assert!(check(&secret, &now, t + 30).is_some());
        assert!(check(&secret, &now, t + 90).is_none());
        assert!(check(&secret, "12345", t).is_none());
        assert!(check(&secret, "abcdef", t).is_none());
        let url = otpauth_url(&secret, "ana@example.com").unwrap();
        assert!(
            url.starts_with("otpauth://totp/plaza:ana%40example.com?secret="),
            "{url}"
        );
    }
}
