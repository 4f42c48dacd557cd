//! `POST /api/auth/logout`: closes the session of the given refresh token
//! and, when signed in, the caller's own session; its access token stops too.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::sessions;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogoutBody {
    #[schemars(length(min = 1, max = 512))]
    pub refresh_token: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: LogoutBody = if req.body.is_empty() { LogoutBody::default() } else { req.json()? };
    if body.refresh_token.as_deref().is_some_and(|t| t.is_empty() || t.len() > 512) {
        return Err(ApiError::validation("refreshToken", "must be 1 to 512 characters"));
    }
    if let Some(token) = body.refresh_token.as_deref()
        && let Some((user_id, family)) = sessions::owner_of(&ctx, token).await?
        // A signed-in caller can only close their own sessions this way.
        && req.principal.as_ref().is_none_or(|p| p.user_id == user_id)
    {
        sessions::revoke(&ctx, &user_id, &family).await?;
    }
    if let Some(principal) = &req.principal
        && let Some(session) = &principal.session
    {
        sessions::revoke(&ctx, &principal.user_id, session).await?;
    }
    Ok(Reply::ok(json!({})).message("Signed out"))
}
