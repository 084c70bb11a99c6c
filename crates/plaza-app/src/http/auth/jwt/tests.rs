use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn signer() -> Signer {
    Signer::new("k1".into(), SECRET, &AuthConfig::default())
}

fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

fn claims() -> serde_json::Value {
    let iat = now().unix_seconds();
    json!({
        "sub": UserId::new(), "sid": SessionId::new(), "role": "user",
        "iss": "plaza", "aud": "plaza", "iat": iat, "nbf": iat, "exp": iat + 900, "typ": "access",
    })
}

fn forge(alg: Algorithm, kid: Option<&str>, claims: &serde_json::Value, secret: &[u8]) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[test]
fn issued_tokens_verify_until_they_expire() {
    let s = signer();
    let (user, session) = (UserId::new(), SessionId::new());
    let token = s
        .issue(user, Role::Admin, session, now(), Duration::from_secs(900))
        .unwrap();
    let c = s.verify(&token, now()).unwrap();
    assert_eq!((c.sub, c.sid, c.role), (user, session, Role::Admin));
    let later = now().saturating_add(Duration::from_secs(899));
    assert!(s.verify(&token, later).is_ok());
    let expired = now().saturating_add(Duration::from_secs(900));
    assert_eq!(s.verify(&token, expired), Err(TokenError::Expired));
}

#[test]
fn only_our_algorithm_and_key_are_accepted() {
    let s = signer();
    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    for none in [format!("{header}.{body}."), format!("{header}.{body}")] {
        assert!(s.verify(&none, now()).is_err(), "{none}");
    }
    // The same secret under another HMAC.
    let hs384 = forge(Algorithm::HS384, Some("k1"), &claims(), SECRET);
    assert_eq!(s.verify(&hs384, now()), Err(TokenError::WrongKey));
    // Unknown or missing kid.
    let other_kid = forge(Algorithm::HS256, Some("k2"), &claims(), SECRET);
    assert_eq!(s.verify(&other_kid, now()), Err(TokenError::WrongKey));
    let no_kid = forge(Algorithm::HS256, None, &claims(), SECRET);
    assert_eq!(s.verify(&no_kid, now()), Err(TokenError::WrongKey));
    // Our kid, another secret.
    let forged = forge(
        Algorithm::HS256,
        Some("k1"),
        &claims(),
        b"another secret of 32 bytes......",
    );
    assert_eq!(s.verify(&forged, now()), Err(TokenError::BadSignature));
    assert_eq!(s.verify("not.a.token", now()), Err(TokenError::Malformed));
    assert_eq!(s.verify("", now()), Err(TokenError::Malformed));
}

#[test]
fn claims_are_checked() {
    let s = signer();
    let mut c = claims();
    c["aud"] = json!("someone-else");
    let wrong_aud = forge(Algorithm::HS256, Some("k1"), &c, SECRET);
    assert_eq!(s.verify(&wrong_aud, now()), Err(TokenError::WrongAudience));

    let mut c = claims();
    c["iss"] = json!("evil");
    let wrong_iss = forge(Algorithm::HS256, Some("k1"), &c, SECRET);
    assert_eq!(s.verify(&wrong_iss, now()), Err(TokenError::WrongAudience));

    let mut c = claims();
    c["nbf"] = json!(now().unix_seconds() + 3600);
    let future = forge(Algorithm::HS256, Some("k1"), &c, SECRET);
    assert_eq!(s.verify(&future, now()), Err(TokenError::NotYetValid));

    let mut c = claims();
    c["typ"] = json!("refresh");
    let refresh = forge(Algorithm::HS256, Some("k1"), &c, SECRET);
    assert_eq!(s.verify(&refresh, now()), Err(TokenError::NotAccess));

    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let no_exp = forge(Algorithm::HS256, Some("k1"), &c, SECRET);
    assert_eq!(s.verify(&no_exp, now()), Err(TokenError::Malformed));
}
