//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). Unknown
//! accounts are checked against a dummy hash, so a login takes the same
//! time whether or not the email exists.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::{ApiError, ApiResult};

fn hasher() -> Argon2<'static> {
    // 19 MiB, t = 2, p = 1: OWASP's first recommended configuration.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on the blocking pool (it takes tens of milliseconds on purpose).
pub async fn hash(password: &str) -> ApiResult<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = new_salt();
        hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Checks `password` against `stored` (or, when there is no account, against a
/// dummy hash, so the time is the same). True only for a real match.
pub async fn verify(password: &str, stored: Option<&str>) -> ApiResult<bool> {
    let real = stored.is_some();
    let stored = match stored {
        Some(s) => s.to_string(),
        None => dummy_hash().to_string(),
    };
    let password = password.to_string();
    let matched = tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(real && matched)
}

fn new_salt() -> SaltString {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    SaltString::encode_b64(&bytes)
        .unwrap_or_else(|_| SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").expect("a valid salt"))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = new_salt();
        hasher().hash_password(b"no account has this password", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let h = hash("correct horse 1").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse 1", Some(&h)).await.unwrap());
        assert!(!verify("wrong horse 1", Some(&h)).await.unwrap());
        assert!(!verify("correct horse 1", None).await.unwrap());
    }
}
