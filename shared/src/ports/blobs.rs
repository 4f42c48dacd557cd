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

/// A content type a presigned PUT can sign: 1–200 characters, no control characters.
pub fn check_content_type(content_type: &str) -> StoreResult<()> {
    if content_type.is_empty() || content_type.len() > 200 || content_type.chars().any(char::is_control) {
        return Err(StoreError::Invalid("bad content type".into()));
    }
    Ok(())
}

/// A file name a presigned GET can put in its `Content-Disposition`: 1–200
/// bytes, no control characters, quotes, backslashes or slashes.
pub fn check_download_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || name.len() > 200 || name.chars().any(|c| c.is_control() || matches!(c, '"' | '\\' | '/')) {
        return Err(StoreError::Invalid("bad download name".into()));
    }
    Ok(())
}

/// What a presigned PUT accepts besides its key and content type.
///
/// `max_bytes` is enforced where the store can: the embedded store signs it
/// and refuses a longer body while reading it (413, nothing stored). A
/// presigned S3 PUT cannot limit its size, so on S3 the caller must check the
/// object after the upload (and should upload under `keys::TMP`, which the
/// bucket's lifecycle rule expires). `content_length` is the exact size the
/// client declared: both stores sign it as the `Content-Length` header and
/// refuse a body of any other length (403).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PutLimits {
    pub max_bytes: Option<u64>,
    pub content_length: Option<u64>,
}

impl PutLimits {
    /// No limit beyond the store's own.
    pub const NONE: Self = Self { max_bytes: None, content_length: None };

    /// At most `max_bytes`, and exactly `content_length` when the client declared it.
    pub fn at_most(max_bytes: u64, content_length: Option<u64>) -> Self {
        Self { max_bytes: Some(max_bytes), content_length }
    }

    /// A maximum of at least one byte, and a declared length within it.
    pub fn validate(&self) -> StoreResult<()> {
        if self.max_bytes == Some(0) {
            return Err(StoreError::Invalid("max_bytes must be at least 1".into()));
        }
        if let (Some(max), Some(len)) = (self.max_bytes, self.content_length)
            && len > max
        {
            return Err(StoreError::Invalid(format!("content_length {len} is over max_bytes {max}")));
        }
        Ok(())
    }
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
    async fn presign_put(&self, key: &str, content_type: &str, ttl: Duration) -> StoreResult<Presigned> {
        self.presign_put_limited(key, content_type, ttl, PutLimits::NONE).await
    }
    /// A PUT URL that accepts only `content_type` and a body within `limits`
    /// (see [`PutLimits`] for what each store enforces).
    async fn presign_put_limited(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        limits: PutLimits,
    ) -> StoreResult<Presigned>;
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

    #[test]
    fn a_declared_length_must_fit_the_maximum() {
        assert!(PutLimits::NONE.validate().is_ok());
        assert!(PutLimits::at_most(10, None).validate().is_ok());
        assert!(PutLimits::at_most(10, Some(10)).validate().is_ok());
        assert!(PutLimits::at_most(10, Some(0)).validate().is_ok());
        assert!(PutLimits::at_most(10, Some(11)).validate().is_err());
        assert!(PutLimits::at_most(0, None).validate().is_err());
        assert!(PutLimits { max_bytes: None, content_length: Some(5) }.validate().is_ok());
    }
}
