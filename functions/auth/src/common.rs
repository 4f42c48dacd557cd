//! What the auth routes share: the sign-in answer and the profile view.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::accounts::sessions::Issued;
use whatif_shared::accounts::user::{User, UserView};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult};

/// `{user, accessToken, refreshToken, expiresIn}`, as the web client reads it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    pub user: UserView,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

impl SignedIn {
    pub async fn new(ctx: &AppContext, user: &User, issued: Issued) -> ApiResult<Self> {
        Ok(Self {
            user: view(ctx, user).await?,
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_in: issued.expires_in,
        })
    }
}

/// The owner's view, with a short-lived URL for the avatar (the bucket is private).
pub async fn view(ctx: &AppContext, user: &User) -> ApiResult<UserView> {
    let avatar_url = match &user.avatar_key {
        Some(key) => Some(ctx.blobs.presign_get(key, Duration::from_secs(3600), None).await?.url),
        None => None,
    };
    Ok(user.view(avatar_url))
}

pub fn user_agent(req: &ApiRequest) -> Option<&str> {
    req.header("user-agent")
}
