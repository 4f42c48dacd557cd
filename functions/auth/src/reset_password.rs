//! `POST /api/auth/reset-password`: a reset token and a new password; every
//! session is closed and the account unlocked.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::types::Password;
use whatif_shared::accounts::{ott, passwords, sessions, store};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetBody {
    #[schemars(length(min = 1, max = 512))]
    pub token: String,
    /// 8–128 characters, not all of one class.
    #[schemars(length(min = 8, max = 128))]
    pub password: String,
    /// The same again.
    #[schemars(length(min = 8, max = 128))]
    pub confirm_password: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ResetBody = req.json()?;
    let password = Password::parse("password", &body.password)?;
    if body.password != body.confirm_password {
        return Err(ApiError::validation("confirmPassword", "does not match the password"));
    }
    let (user_id, email) = ott::consume(&ctx, ott::Purpose::ResetPassword, &body.token).await?;
    let user = store::get_user(&ctx, &user_id)
        .await?
        // Only for the address the link was sent to: the account may have changed it since.
        .filter(|user| user.email == email)
        .ok_or_else(|| ApiError::bad_request("TOKEN_INVALID", "The link is invalid or has expired"))?;
    store::ensure_active(&user, ctx.clock.epoch_seconds())?;
    store::set_password(&ctx, &user_id, &passwords::hash(password.expose()).await?).await?;
    // The link reached the inbox, which proves the address.
    store::mark_email_verified(&ctx, &user_id, &email).await?;
    sessions::revoke_all(&ctx, &user_id, None).await?;
    store::revoke_tokens_before_now(&ctx, &user_id).await?;
    Ok(Reply::ok(json!({})).message("Password changed; sign in with the new one"))
}
