//! `POST /api/users/avatar-upload-url`: a presigned PUT for a PNG, JPEG or
//! WebP image of at most 2 MB; the profile then references the key, and is
//! only accepted once the upload is there, the right type and small enough.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::accounts::user::{User, UserView};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

pub const MAX_AVATAR_BYTES: u64 = 2 * 1024 * 1024;
const TYPES: [(&str, &str); 3] = [("image/png", "png"), ("image/jpeg", "jpg"), ("image/webp", "webp")];

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvatarUploadBody {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarUpload {
    pub upload_url: String,
    pub method: String,
    /// Send these headers with the PUT.
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
    let key = format!("{}{}.{ext}", prefix(&principal.user_id), ctx.ids.ulid());
    let presigned = ctx.blobs.presign_put(&key, content_type, Duration::from_secs(600)).await?;
    Ok(Reply::ok(AvatarUpload {
        upload_url: presigned.url,
        method: presigned.method,
        headers: presigned.headers.into_iter().collect(),
        key,
        max_bytes: MAX_AVATAR_BYTES,
        expires_at: rfc3339(presigned.expires_at),
    }))
}

/// Where a user's avatars live in the blob store.
pub fn prefix(user_id: &str) -> String {
    whatif_shared::keys::avatars_of(&whatif_shared::UserId::from_trusted(user_id))
}

/// Accepts `key` as the avatar only if it is this user's, uploaded, an image
/// and at most 2 MB; a too-large upload is deleted.
pub async fn check_uploaded(ctx: &AppContext, user_id: &str, key: &str) -> ApiResult<String> {
    let bad = |why: &str| ApiError::validation("avatarKey", why.to_string());
    if !key.starts_with(&prefix(user_id)) || key.contains("..") {
        return Err(bad("is not an upload key of this account"));
    }
    let Some(meta) = ctx.blobs.head(key).await? else { return Err(bad("has not been uploaded yet")) };
    if meta.size > MAX_AVATAR_BYTES || meta.size == 0 {
        let _ = ctx.blobs.delete(key).await;
        return Err(bad("must be an image of at most 2 MB"));
    }
    let Some(content_type) = meta.content_type.as_deref().filter(|t| TYPES.iter().any(|(ok, _)| ok == t)) else {
        return Err(bad("must be a PNG, JPEG or WebP image"));
    };
    // The type the uploader claimed is not trusted: the file must start as one.
    let Some((bytes, _)) = ctx.blobs.get(key).await? else { return Err(bad("has not been uploaded yet")) };
    if !starts_as(content_type, &bytes) {
        let _ = ctx.blobs.delete(key).await;
        return Err(bad("is not the image its type says (the file does not start as a PNG, JPEG or WebP)"));
    }
    Ok(key.to_string())
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
