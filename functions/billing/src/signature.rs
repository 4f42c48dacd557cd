//! Stripe's webhook signatures, verified as Stripe specifies: the
//! `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`
//! (other schemes such as `v0` are ignored); each `v1` is HMAC-SHA256, keyed
//! with a signing secret, over `"{t}.{raw body}"`. The event is genuine when
//! any `v1` matches under any accepted secret (constant-time comparison),
//! and fresh when `t` is within the tolerance of now.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header, or a `t` that is not a number.
    Malformed,
    /// No `v1` matches under any secret.
    NoMatch,
    /// Signed, but longer ago (or further ahead) than the tolerance.
    Stale,
}

/// Checks `header` for `payload` against every secret in `secrets`, at `now`
/// (unix seconds), with `tolerance` seconds either side. The age is checked
/// first (no HMAC work for a stale replay). Returns the signed time.
pub fn verify(
    header: &str,
    payload: &[u8],
    secrets: &[String],
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    let (t, signatures) = parse(header)?;
    check_age(t, now, tolerance)?;
    let matched = secrets.iter().filter(|s| !s.is_empty()).any(|secret| {
        signatures.iter().any(|signature| {
            let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else { return false };
            mac.update(t.to_string().as_bytes());
            mac.update(b".");
            mac.update(payload);
            // `verify_slice` compares in constant time.
            mac.verify_slice(signature).is_ok()
        })
    });
    if matched { Ok(t) } else { Err(SignatureError::NoMatch) }
}

/// Fresh: signed at most `tolerance` seconds from `now` (either side: a
/// clock ahead of ours is allowed as much as one behind).
pub fn check_age(t: i64, now: i64, tolerance: i64) -> Result<(), SignatureError> {
    if now.abs_diff(t) > tolerance.unsigned_abs() { Err(SignatureError::Stale) } else { Ok(()) }
}

/// The header's timestamp and its `v1` signatures (others ignored).
pub fn parse(header: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.split_once('=') else { continue };
        match key.trim() {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.trim().parse().map_err(|_| SignatureError::Malformed)?);
            }
            "v1" => {
                if let Some(bytes) = from_hex(value.trim()) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(t) if !signatures.is_empty() => Ok((t, signatures)),
        _ => Err(SignatureError::Malformed),
    }
}

/// The header Stripe would send for `payload` signed with `secret` at `t`
/// (tests, and the documentation's example).
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 256 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;

    fn secrets() -> Vec<String> {
        vec![SECRET.to_string()]
    }

    #[test]
    fn a_genuine_fresh_signature_passes() {
        let header = sign(BODY, SECRET, 1_000);
        assert_eq!(verify(&header, BODY, &secrets(), 1_100, 300), Ok(1_000));
    }

    #[test]
    fn matches_a_known_vector() {
        // HMAC-SHA256 with key "key" over "1.hello", computed independently (`openssl dgst -sha256 -hmac key`).
        let header = sign(b"hello", "key", 1);
        assert_eq!(header, "t=1,v1=9233658ef5e21fe59dba8abb099c978547d7626f87090a6a585c26a2a98a91f8");
    }

    #[test]
    fn forged_stale_and_malformed_headers_fail() {
        let header = sign(BODY, SECRET, 1_000);
        assert_eq!(verify(&header, b"{}", &secrets(), 1_000, 300), Err(SignatureError::NoMatch));
        assert_eq!(verify(&header, BODY, &["whsec_other".into()], 1_000, 300), Err(SignatureError::NoMatch));
        assert_eq!(verify(&header, BODY, &secrets(), 1_301, 300), Err(SignatureError::Stale));
        let v0_only = header.replace("v1=", "v0=");
        assert_eq!(verify(&v0_only, BODY, &secrets(), 1_000, 300), Err(SignatureError::Malformed));
        assert_eq!(verify("v1=abcd", BODY, &secrets(), 1_000, 300), Err(SignatureError::Malformed));
        assert_eq!(verify("t=x,v1=ab", BODY, &secrets(), 1_000, 300), Err(SignatureError::Malformed));
        // A signature for another timestamp does not carry over.
        let moved = header.replace("t=1000", "t=1001");
        assert_eq!(verify(&moved, BODY, &secrets(), 1_001, 300), Err(SignatureError::NoMatch));
    }

    #[test]
    fn any_v1_under_any_secret_passes_during_rotation() {
        let old = sign(BODY, "whsec_old", 1_000);
        let new = sign(BODY, SECRET, 1_000);
        let both = format!("{},v1={},v0=deadbeef", new, old.split("v1=").nth(1).unwrap());
        let rotated = vec!["whsec_old".to_string(), SECRET.to_string()];
        assert!(verify(&both, BODY, &rotated, 1_000, 300).is_ok());
        assert!(verify(&old, BODY, &rotated, 1_000, 300).is_ok());
        assert!(verify(&old, BODY, &secrets(), 1_000, 300).is_err());
    }
}
