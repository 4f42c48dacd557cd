//! Blobs in a folder. Presigned URLs point at the local server's `/_blobs/`
//! route and carry an HMAC-SHA256 signature over method, key, expiry and the
//! constraints (content type, download name, largest and exact body size), so
//! they behave like S3's: anyone holding one may do exactly that request
//! until it expires, and a PUT's size limit cannot be raised by the client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::clock::Clock;
use crate::ports::blobs::{
    BlobMeta, BlobStore, Presigned, PutLimits, check_content_type, check_download_name, validate_key, validate_prefix,
    validate_ttl,
};
use crate::ports::{StoreError, StoreResult};

pub struct LocalBlobs {
    objects: PathBuf,
    meta: PathBuf,
    base_url: String,
    signing_key: Vec<u8>,
    clock: Arc<dyn Clock>,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    content_type: Option<String>,
}

/// What a verified presigned URL allows.
#[derive(Debug, PartialEq, Eq)]
pub struct SignedBlobRequest {
    pub key: String,
    pub content_type: Option<String>,
    pub download_name: Option<String>,
    /// A PUT's largest body.
    pub max_bytes: Option<u64>,
    /// A PUT's exact body length (its `Content-Length`).
    pub content_length: Option<u64>,
}

/// The constraints a presigned URL carries, as signed.
#[derive(Default)]
struct Constraints<'a> {
    content_type: Option<&'a str>,
    download_name: Option<&'a str>,
    limits: PutLimits,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobUrlError {
    #[error("the URL is not a valid signed blob URL")]
    Invalid,
    #[error("the URL has expired")]
    Expired,
}

impl LocalBlobs {
    /// `base_url` is where the local server answers (e.g. `http://127.0.0.1:3000`).
    pub fn new(root: &Path, base_url: &str, signing_key: Vec<u8>, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let objects = root.join("objects");
        let meta = root.join("meta");
        for dir in [&objects, &meta] {
            std::fs::create_dir_all(dir).map_err(|e| io("create folder", e))?;
        }
        Ok(Self { objects, meta, base_url: base_url.trim_end_matches('/').to_string(), signing_key, clock })
    }

    fn paths(&self, key: &str) -> StoreResult<(PathBuf, PathBuf)> {
        validate_key(key)?;
        Ok((self.objects.join(key), self.meta.join(format!("{key}.json"))))
    }

    fn sign(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("HMAC takes keys of any length");
        mac.update(parts.join("\n").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The signature of one request: every signed part, newline-separated
    /// (none of them may contain a newline; absent ones are empty).
    fn signature(&self, method: &str, key: &str, expires: &str, constraints: [&str; 4]) -> String {
        let [ct, dl, max, len] = constraints;
        self.sign(&[method, key, expires, ct, dl, max, len])
    }

    fn presign(&self, method: &str, key: &str, ttl: Duration, c: Constraints<'_>) -> StoreResult<Presigned> {
        validate_key(key)?;
        validate_ttl(ttl)?;
        c.limits.validate()?;
        let expires_at = self.clock.now() + ttl;
        let expires = expires_at.unix_timestamp().to_string();
        let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let (max, len) = (number(c.limits.max_bytes), number(c.limits.content_length));
        let (ct, dl) = (c.content_type.unwrap_or(""), c.download_name.unwrap_or(""));
        let sig = self.signature(method, key, &expires, [ct, dl, &max, &len]);
        let mut url = url::Url::parse(&format!("{}/_blobs/{key}", self.base_url))
            .map_err(|e| StoreError::Invalid(format!("bad base url: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("method", method).append_pair("expires", &expires);
            for (name, value) in [("contentType", ct), ("download", dl), ("maxBytes", &max), ("contentLength", &len)] {
                if !value.is_empty() {
                    q.append_pair(name, value);
                }
            }
            q.append_pair("signature", &sig);
        }
        let mut headers = Vec::new();
        if let Some(ct) = c.content_type {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        if let Some(len) = c.limits.content_length {
            headers.push(("Content-Length".to_string(), len.to_string()));
        }
        Ok(Presigned { url: url.to_string(), method: method.to_string(), headers, expires_at })
    }

    /// Checks a request to `/_blobs/<key>?<query>` made with `method`.
    pub fn verify(&self, method: &str, key: &str, query: &str) -> Result<SignedBlobRequest, BlobUrlError> {
        validate_key(key).map_err(|_| BlobUrlError::Invalid)?;
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let (Some(signed_method), Some(expires), Some(sig)) = (get("method"), get("expires"), get("signature")) else {
            return Err(BlobUrlError::Invalid);
        };
        let [ct, dl, max, len] = ["contentType", "download", "maxBytes", "contentLength"].map(|n| get(n).unwrap_or(""));
        let expected = self.signature(signed_method, key, expires, [ct, dl, max, len]);
        if signed_method != method || !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(BlobUrlError::Invalid);
        }
        let expires: i64 = expires.parse().map_err(|_| BlobUrlError::Invalid)?;
        if expires <= self.clock.epoch_seconds() {
            return Err(BlobUrlError::Expired);
        }
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let number = |s: &str| -> Result<Option<u64>, BlobUrlError> {
            if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(|_| BlobUrlError::Invalid) }
        };
        Ok(SignedBlobRequest {
            key: key.to_string(),
            content_type: some(ct),
            download_name: some(dl),
            max_bytes: number(max)?,
            content_length: number(len)?,
        })
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> StoreResult<()> {
        let (object, meta) = self.paths(key)?;
        let meta_bytes = serde_json::to_vec(&Meta { content_type: Some(content_type.to_string()) })
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        write_atomic(&meta, &meta_bytes).await?;
        write_atomic(&object, &body).await
    }

    async fn get(&self, key: &str) -> StoreResult<Option<(Bytes, BlobMeta)>> {
        let (object, _) = self.paths(key)?;
        let Some(meta) = self.head(key).await? else { return Ok(None) };
        match tokio::fs::read(&object).await {
            Ok(bytes) => Ok(Some((Bytes::from(bytes), meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", e)),
        }
    }

    async fn head(&self, key: &str) -> StoreResult<Option<BlobMeta>> {
        let (object, meta) = self.paths(key)?;
        let size = match tokio::fs::metadata(&object).await {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("stat", e)),
        };
        let content_type = match tokio::fs::read(&meta).await {
            Ok(bytes) => serde_json::from_slice::<Meta>(&bytes).ok().and_then(|m| m.content_type),
            Err(_) => None,
        };
        Ok(Some(BlobMeta { size, content_type }))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let (object, meta) = self.paths(key)?;
        for path in [object, meta] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("delete", e)),
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        if !prefix.is_empty() {
            validate_prefix(prefix)?;
        }
        let root = self.objects.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            walk(&root, &root, &mut keys).map_err(|e| io("list", e))?;
            keys.retain(|k| k.starts_with(&prefix) && !k.contains(".tmp-"));
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("blob list task: {e}")))?
    }

    async fn presign_get(&self, key: &str, ttl: Duration, download_name: Option<&str>) -> StoreResult<Presigned> {
        download_name.map(check_download_name).transpose()?;
        self.presign("GET", key, ttl, Constraints { download_name, ..Constraints::default() })
    }

    async fn presign_put_limited(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        limits: PutLimits,
    ) -> StoreResult<Presigned> {
        check_content_type(content_type)?;
        self.presign("PUT", key, ttl, Constraints { content_type: Some(content_type), download_name: None, limits })
    }

    async fn check(&self) -> StoreResult<()> {
        let meta = tokio::fs::metadata(&self.objects).await.map_err(|e| io("stat", e))?;
        if meta.is_dir() { Ok(()) } else { Err(StoreError::Unavailable("blob folder is missing".into())) }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

async fn write_atomic(path: &Path, bytes: &[u8]) -> StoreResult<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| io("create folder", e))?;
    }
    let tmp = path.with_extension(format!("tmp-{}", ulid::Ulid::new()));
    tokio::fs::write(&tmp, bytes).await.map_err(|e| io("write", e))?;
    tokio::fs::rename(&tmp, path).await.map_err(|e| io("rename", e))
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("blob folder: {what}: {}", e.kind()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
