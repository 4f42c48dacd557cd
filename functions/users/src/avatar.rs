//! `POST /api/users/avatar-upload-url`: a presigned PUT for a PNG, JPEG or
//! WebP image of at most 2 MiB, to a key under `tmp/avatars/<user>/`; the
//! profile then names that key, and [`accept_upload`] takes the upload only
//! once it is there, small enough and really the image its type says, and
//! moves it to `avatars/<user>/`.
//!
//! Where the limit holds: the embedded store signs the maximum into the URL
//! and refuses a longer body while reading it (413, nothing stored). A
//! presigned S3 PUT cannot carry a maximum; with `contentLength` the URL signs
//! that exact length, so S3 refuses any other, and without it an upload of any
//! size lands under `tmp/`, which the bucket's lifecycle rule expires after a
//! day unless the profile accepts it first.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::accounts::user::{User, UserView};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::ports::PutLimits;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

pub const MAX_AVATAR_BYTES: u64 = 2 * 1024 * 1024;
const TYPES: [(&str, &str); 3] = [("image/png", "png"), ("image/jpeg", "jpg"), ("image/webp", "webp")];
/// How long an upload URL lives.
const UPLOAD_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvatarUploadBody {
    /// `image/png`, `image/jpeg` or `image/webp`.
    #[schemars(extend("enum" = ["image/png", "image/jpeg", "image/webp"]))]
    pub content_type: String,
    /// The file's size in bytes (1 to 2097152). When given, the upload must
    /// be exactly this long: the URL signs it as the `Content-Length`.
    #[schemars(range(min = 1, max = 2097152))]
    pub content_length: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarUpload {
    pub upload_url: String,
    pub method: String,
    /// Send these headers with the PUT (a browser sets `Content-Length` itself, from the file).
    pub headers: std::collections::BTreeMap<String, String>,
    /// Put this in the profile's `avatarKey` once uploaded.
    pub key: String,
    pub max_bytes: u64,
    pub expires_at: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: AvatarUploadBody = req.json()?;
    let principal = req.user()?;
    let Some((content_type, ext)) = TYPES.iter().find(|(t, _)| *t == body.content_type) else {
        return Err(ApiError::validation("contentType", "must be image/png, image/jpeg or image/webp"));
    };
    if body.content_length.is_some_and(|n| n == 0 || n > MAX_AVATAR_BYTES) {
        return Err(ApiError::validation(
            "contentLength",
            format!("must be the file's size, 1 to {MAX_AVATAR_BYTES} bytes (avatars are at most 2 MiB)"),
        ));
    }
    let key = format!("{}{}.{ext}", uploads(&principal.user_id), ctx.ids.ulid());
    let limits = PutLimits::at_most(MAX_AVATAR_BYTES, body.content_length);
    let presigned = ctx.blobs.presign_put_limited(&key, content_type, UPLOAD_TTL, limits).await?;
    Ok(Reply::ok(AvatarUpload {
        upload_url: presigned.url,
        method: presigned.method,
        headers: presigned.headers.into_iter().collect(),
        key,
        max_bytes: MAX_AVATAR_BYTES,
        expires_at: rfc3339(presigned.expires_at),
    }))
}

/// Where a user's accepted avatars live in the blob store.
pub fn prefix(user_id: &str) -> String {
    keys::avatars_of(&UserId::from_trusted(user_id))
}

/// Where a user's avatar uploads wait for the profile to accept them.
pub fn uploads(user_id: &str) -> String {
    keys::avatar_uploads_of(&UserId::from_trusted(user_id))
}

/// An upload the profile may take as its avatar: its checked bytes, and the
/// key it gets once accepted.
#[derive(Debug)]
pub struct Accepted {
    /// Where it was uploaded (under `tmp/avatars/<user>/`).
    pub upload_key: String,
    /// Where it is kept (under `avatars/<user>/`).
    pub key: String,
    pub bytes: Bytes,
    pub content_type: String,
}

/// Takes `key` as an avatar only if it is one of this user's uploads, is
/// there, is 1 byte to 2 MiB, and is the PNG, JPEG or WebP image its type
/// says (by its first bytes); an upload refused for its content is deleted.
/// Nothing is stored yet: [`keep`] does that once the profile is saved.
pub async fn accept_upload(ctx: &AppContext, user_id: &str, key: &str) -> ApiResult<Accepted> {
    let bad = |why: &str| ApiError::validation("avatarKey", why.to_string());
    let Some(file) = key.strip_prefix(&uploads(user_id)) else {
        return Err(bad("is not an upload key of this account (ask POST /api/users/avatar-upload-url for one)"));
    };
    if file.is_empty() || file.starts_with('.') || !file.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return Err(bad("is not an upload key of this account (ask POST /api/users/avatar-upload-url for one)"));
    }
    let too_large = || bad("must be an image of 1 byte to 2 MiB");
    let Some(meta) = ctx.blobs.head(key).await? else { return Err(bad("has not been uploaded yet")) };
    if meta.size > MAX_AVATAR_BYTES || meta.size == 0 {
        discard(ctx, key).await;
        return Err(too_large());
    }
    let Some(content_type) = meta.content_type.filter(|t| TYPES.iter().any(|(ok, _)| ok == t)) else {
        discard(ctx, key).await;
        return Err(bad("must be a PNG, JPEG or WebP image"));
    };
    // What is kept is exactly what is checked here: these bytes, not the
    // object, which a second PUT to the same URL could change meanwhile.
    let Some((bytes, _)) = ctx.blobs.get(key).await? else { return Err(bad("has not been uploaded yet")) };
    if bytes.len() as u64 > MAX_AVATAR_BYTES || bytes.is_empty() {
        discard(ctx, key).await;
        return Err(too_large());
    }
    // The type the uploader claimed is not trusted: the file must start as one.
    if !starts_as(&content_type, &bytes) {
        discard(ctx, key).await;
        return Err(bad("is not the image its type says (the file does not start as a PNG, JPEG or WebP)"));
    }
    Ok(Accepted { upload_key: key.to_string(), key: format!("{}{file}", prefix(user_id)), bytes, content_type })
}

/// Whether `key` names `user`'s current avatar: its key, or the upload key
/// it was accepted from.
pub fn is_current(user: &User, key: &str) -> bool {
    user.avatar_key.as_deref().is_some_and(|current| key == current || key.strip_prefix(keys::TMP) == Some(current))
}

/// Stores an accepted upload as the avatar (before the profile names it).
pub async fn keep(ctx: &AppContext, accepted: &Accepted) -> ApiResult<()> {
    ctx.blobs.put(&accepted.key, accepted.bytes.clone(), &accepted.content_type).await?;
    Ok(())
}

/// Deletes a blob the profile does not (or no longer) name; a failure is
/// logged, and an upload left under `tmp/` expires anyway in AWS.
pub async fn discard(ctx: &AppContext, key: &str) {
    if let Err(e) = ctx.blobs.delete(key).await {
        tracing::warn!(error = %e, key, "an avatar blob was not deleted");
    }
}

/// Whether `bytes` begin with the signature of `content_type`'s format.
pub fn starts_as(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}

/// The owner's view of the account, with a short-lived avatar URL.
pub async fn view(ctx: &AppContext, user: &User) -> ApiResult<UserView> {
    let avatar_url = match &user.avatar_key {
        Some(key) => Some(ctx.blobs.presign_get(key, Duration::from_secs(3600), None).await?.url),
        None => None,
    };
    Ok(user.view(avatar_url))
}

#[cfg(test)]
mod tests {
    use super::starts_as;

    #[test]
    fn an_image_is_known_by_its_first_bytes() {
        assert!(starts_as("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(starts_as("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]));
        assert!(starts_as("image/webp", b"RIFF\x24\0\0\0WEBPVP8 "));
        assert!(!starts_as("image/png", b"<html><script>alert(1)</script>"));
        assert!(!starts_as("image/jpeg", b"\x89PNG\r\n\x1a\n"), "a PNG is not a JPEG");
        assert!(!starts_as("image/webp", b"RIFF\x24\0\0\0WAVEfmt "), "a WAV is not a WebP");
        assert!(!starts_as("image/png", b""));
        assert!(!starts_as("text/html", b"\x89PNG\r\n\x1a\n"));
    }
}
