//! The blob store: private objects addressed by key, shared only through
//! short-lived presigned URLs.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use time::OffsetDateTime;

use super::{StoreError, StoreResult};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A request a client can make without credentials until `expires_at`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Presigned {
    pub url: String,
    pub method: String,
    /// Headers the client must send with the request (e.g. Content-Type on a PUT).
    pub headers: Vec<(String, String)>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The longest a presigned URL may live (S3's limit for SigV4 is 7 days; we keep it short).
pub const MAX_PRESIGN_TTL: Duration = Duration::from_secs(3600);

#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> StoreResult<()>;
    async fn get(&self, key: &str) -> StoreResult<Option<(Bytes, BlobMeta)>>;
    async fn head(&self, key: &str) -> StoreResult<Option<BlobMeta>>;
    /// Deleting a missing key succeeds.
    async fn delete(&self, key: &str) -> StoreResult<()>;
    /// Keys under `prefix`, in key order.
    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>>;
    /// Deletes every key under `prefix` (a retry finishes what a failure left).
    async fn delete_all(&self, prefix: &str) -> StoreResult<()> {
        for key in self.list(prefix).await? {
            self.delete(&key).await?;
        }
        Ok(())
    }
    /// A GET URL; with `download_name` the response is an attachment of that name.
    async fn presign_get(&self, key: &str, ttl: Duration, download_name: Option<&str>) -> StoreResult<Presigned>;
    /// A PUT URL that accepts only `content_type`.
    async fn presign_put(&self, key: &str, content_type: &str, ttl: Duration) -> StoreResult<Presigned>;
    async fn check(&self) -> StoreResult<()>;
}

/// Keys are built by server code, but every adapter still refuses anything
/// that is not a plain relative path (no `..`, no empty segments, no odd bytes).
pub fn validate_key(key: &str) -> StoreResult<()> {
    let ok = !key.is_empty()
        && key.len() <= 1024
        && key.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_.-=".contains(&b));
    if ok { Ok(()) } else { Err(StoreError::Invalid(format!("bad blob key {key:?}"))) }
}

/// Prefixes for `list` follow the same rules, but may end with `/`.
pub fn validate_prefix(prefix: &str) -> StoreResult<()> {
    validate_key(prefix.strip_suffix('/').unwrap_or(prefix))
}

pub fn validate_ttl(ttl: Duration) -> StoreResult<()> {
    if ttl.is_zero() || ttl > MAX_PRESIGN_TTL {
        return Err(StoreError::Invalid(format!("presign ttl must be 1s..={}s", MAX_PRESIGN_TTL.as_secs())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_their_folder() {
        for bad in ["", "/abs", "a//b", "../x", "a/../b", "a/./b", "sp ace", "a\\b", "é"] {
            assert!(validate_key(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["avatars/01H/x.png", "exports/u-1/2026.zip", "a"] {
            assert!(validate_key(good).is_ok(), "{good:?} should be accepted");
        }
        assert!(validate_prefix("avatars/").is_ok());
    }
}
