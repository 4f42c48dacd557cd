//! `PUT /api/users/change-password`: the current password and a new one;
//! every other session is closed, this one stays signed in.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::types::Password;
use whatif_shared::accounts::{emails, passwords, sessions, store};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::profile::current;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ChangePasswordBody = req.json()?;
    let new = Password::parse("newPassword", &body.new_password)?;
    if body.new_password != body.confirm_password {
        return Err(ApiError::validation("confirmPassword", "does not match the new password"));
    }
    let user = current(&ctx, &req).await?;
    if !passwords::verify(&body.current_password, user.password_hash.as_deref()).await? {
        return Err(ApiError::validation("currentPassword", "is wrong").with_code("INVALID_CREDENTIALS"));
    }
    store::set_password(&ctx, &user.id, &passwords::hash(new.expose()).await?).await?;
    let keep = req.principal.as_ref().and_then(|p| p.session.clone());
    sessions::revoke_all(&ctx, &user.id, keep.as_deref()).await?;
    if let Err(e) = ctx.mailer.send(&emails::password_changed(&user.email)).await {
        tracing::warn!(error = %e, "password-changed notice not sent");
    }
    Ok(Reply::ok(json!({})).message("Password changed; other sessions were signed out"))
}
