//! `POST /api/auth/forgot-password`: always 200; when the address has an
//! active account, a single-use reset link (1 hour) goes to it.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::types::Email;
use whatif_shared::accounts::user::AccountStatus;
use whatif_shared::accounts::{emails, ott, store};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    /// An email address.
    #[schemars(length(min = 3, max = 254), regex(pattern = whatif_shared::accounts::types::EMAIL_PATTERN))]
    pub email: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ForgotBody = req.json()?;
    let email = Email::parse("email", &body.email)?;
    if let Some(user) = store::find_by_email(&ctx, &email).await?
        && user.status_at(ctx.clock.epoch_seconds()) == AccountStatus::Active
    {
        let sent = async {
            let token = ott::issue(&ctx, ott::Purpose::ResetPassword, &user.id, &user.email).await?;
            ctx.mailer.send(&emails::reset_password(&ctx.config.frontend_url, &user.email, &token)).await?;
            Ok::<_, ApiError>(())
        };
        // The answer must not tell whether the address exists, so a failure is only logged.
        if let Err(e) = sent.await {
            tracing::error!(error = %e, "reset email not sent");
        }
    }
    Ok(Reply::ok(json!({})).message("If an account uses this address, a reset link is on its way"))
}
