//! The blob store on S3 (`BlobStore`), plus `s3_client` and `create_bucket_if_missing`.
//!
//! Presigned URLs are SigV4 query-signed at the injected clock's time; a PUT
//! signs its Content-Type, so the upload must send exactly that header, and
//! with a declared length its Content-Length, so S3 refuses any other size. A
//! presigned PUT cannot carry a maximum size: `PutLimits::max_bytes` is only
//! checked here against the declared length; callers check the object after
//! the upload (see `BlobStore::presign_put_limited`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{error_code, sdk_error};
use crate::clock::Clock;
use crate::ports::blobs::{
    BlobMeta, BlobStore, Presigned, PutLimits, check_content_type, check_download_name, validate_key, validate_prefix,
    validate_ttl,
};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "s3";

/// RFC 5987 `attr-char`: what may stay unescaped in `filename*=UTF-8''...`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// An S3 client; path-style addressing is needed behind an endpoint override (moto on 127.0.0.1).
pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> Client {
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(force_path_style).build();
    Client::from_conf(config)
}

/// Creates the bucket unless it exists (us-east-1 style, no location constraint).
pub async fn create_bucket_if_missing(client: &Client, bucket: &str) -> StoreResult<()> {
    if client.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(err) if error_code(&err) == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(err) => Err(sdk_error(SERVICE, &err)),
    }
}

pub struct S3Blobs {
    client: super::Lazy<Client>,
    bucket: String,
    clock: Arc<dyn Clock>,
}

impl S3Blobs {
    pub fn new(client: impl Into<super::Lazy<Client>>, bucket: String, clock: Arc<dyn Clock>) -> Self {
        Self { client: client.into(), bucket, clock }
    }

    /// A presigning config starting now (by the clock) and lasting `ttl`.
    fn presigning(&self, ttl: Duration) -> StoreResult<(PresigningConfig, time::OffsetDateTime)> {
        validate_ttl(ttl)?;
        // SigV4 counts in whole seconds, from a signing time without fraction.
        let now = self.clock.now();
        let start = now.replace_nanosecond(0).unwrap_or(now);
        let ttl = Duration::from_secs(ttl.as_secs().max(1));
        let config = PresigningConfig::builder()
            .start_time(SystemTime::from(start))
            .expires_in(ttl)
            .build()
            .map_err(|e| StoreError::Invalid(format!("{SERVICE}: {e}")))?;
        Ok((config, start + ttl))
    }
}

impl S3Blobs {
    /// Whether `key` itself exists, by a listing of that prefix.
    async fn is_listed(&self, key: &str) -> StoreResult<bool> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(key)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(out.contents().iter().any(|o| o.key() == Some(key)))
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> StoreResult<()> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<(Bytes, BlobMeta)>> {
        validate_key(key)?;
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(err) => return Err(sdk_error(SERVICE, &err)),
        };
        let content_type = out.content_type().map(str::to_string);
        let body = out
            .body
            .collect()
            .await
            .map_err(|_| StoreError::Unavailable(format!("{SERVICE}: the object body could not be read")))?
            .into_bytes();
        let meta = BlobMeta { size: body.len() as u64, content_type };
        Ok(Some((body, meta)))
    }

    async fn head(&self, key: &str) -> StoreResult<Option<BlobMeta>> {
        validate_key(key)?;
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(BlobMeta {
                size: out.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                content_type: out.content_type().map(str::to_string),
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            // Without an unconditional s3:ListBucket, S3 answers a missing key
            // with 403, not 404, and our functions may only list their own
            // prefixes. A listing of exactly this key tells the two apart.
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                if self.is_listed(key).await? { Err(sdk_error(SERVICE, &err)) } else { Ok(None) }
            }
            Err(err) => Err(sdk_error(SERVICE, &err)),
        }
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        validate_key(key)?;
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        validate_prefix(prefix)?;
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error(SERVICE, &e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        // S3 already lists in key order; sorting keeps that promise for any S3-alike.
        keys.sort();
        Ok(keys)
    }

    async fn presign_get(&self, key: &str, ttl: Duration, download_name: Option<&str>) -> StoreResult<Presigned> {
        validate_key(key)?;
        let disposition = download_name.map(attachment).transpose()?;
        let (config, expires_at) = self.presigning(ttl)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_disposition(disposition)
            .presigned(config)
            .await
            .map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(presigned(&request, expires_at))
    }

    async fn presign_put_limited(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        limits: PutLimits,
    ) -> StoreResult<Presigned> {
        validate_key(key)?;
        check_content_type(content_type)?;
        limits.validate()?;
        let content_length = limits
            .content_length
            .map(i64::try_from)
            .transpose()
            .map_err(|_| StoreError::Invalid("content_length is too large".into()))?;
        let (config, expires_at) = self.presigning(ttl)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_content_length(content_length)
            .presigned(config)
            .await
            .map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(presigned(&request, expires_at))
    }

    async fn check(&self) -> StoreResult<()> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(|e| sdk_error(SERVICE, &e))?;
        Ok(())
    }
}

fn presigned(request: &PresignedRequest, expires_at: time::OffsetDateTime) -> Presigned {
    Presigned {
        url: request.uri().to_string(),
        method: request.method().to_string(),
        headers: request.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        expires_at,
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
fn attachment(name: &str) -> StoreResult<String> {
    check_download_name(name)?;
    let fallback: String = name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let exact = utf8_percent_encode(name, ATTR_CHAR);
    Ok(format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> S3Blobs {
        let client = s3_client(&crate::adapters::aws::emulator_config("http://127.0.0.1:9"), true);
        S3Blobs::new(client, "bucket".into(), Arc::new(crate::clock::SystemClock))
    }

    /// The signed headers of a presigned URL (`X-Amz-SignedHeaders`).
    fn signed_headers(url: &str) -> Vec<String> {
        let url = url::Url::parse(url).expect("a URL");
        let signed = url.query_pairs().find(|(k, _)| k == "X-Amz-SignedHeaders").expect("SigV4 query signing").1;
        signed.split(';').map(str::to_string).collect()
    }

    /// Presigning is offline: no request reaches the (unused) endpoint.
    #[tokio::test]
    async fn a_declared_length_is_signed_so_s3_refuses_any_other() {
        let b = blobs();
        let ttl = Duration::from_secs(60);
        let put = b
            .presign_put_limited("tmp/a.png", "image/png", ttl, PutLimits::at_most(100, Some(42)))
            .await
            .expect("presign");
        let signed = signed_headers(&put.url);
        assert!(signed.contains(&"content-length".to_string()), "Content-Length is signed: {signed:?}");
        assert!(signed.contains(&"content-type".to_string()), "Content-Type is signed: {signed:?}");
        let header =
            |name: &str| put.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        assert_eq!(header("content-length"), Some("42"), "the client is told the length to send");
        assert_eq!(header("content-type"), Some("image/png"));

        let unlimited = b.presign_put("tmp/b.png", "image/png", ttl).await.expect("presign");
        assert!(!signed_headers(&unlimited.url).contains(&"content-length".to_string()), "no length, none signed");
        let too_long = b.presign_put_limited("tmp/c.png", "image/png", ttl, PutLimits::at_most(10, Some(11))).await;
        assert!(matches!(too_long, Err(StoreError::Invalid(_))), "a declared length over the maximum is refused");
    }

    #[test]
    fn download_names_are_escaped() {
        assert_eq!(
            attachment("Chuyện nếu.txt").unwrap(),
            "attachment; filename=\"Chuy_n n_u.txt\"; filename*=UTF-8''Chuy%E1%BB%87n%20n%E1%BA%BFu.txt"
        );
        for bad in ["", "a\"b", "a/b", "a\\b", "a\nb"] {
            assert!(attachment(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
