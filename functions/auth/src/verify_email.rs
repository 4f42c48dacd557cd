//! `POST /api/auth/verify-email`: the token from the verification email.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::{ott, store};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[schemars(length(min = 1, max = 512))]
    pub token: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: VerifyBody = req.json()?;
    let (user_id, email) = ott::consume(&ctx, ott::Purpose::VerifyEmail, &body.token).await?;
    if !store::mark_email_verified(&ctx, &user_id, &email).await? {
        // The account changed its address since the link was sent.
        return Err(ApiError::bad_request("TOKEN_INVALID", "The link is invalid or has expired"));
    }
    Ok(Reply::ok(json!({"emailVerified": true})).message("Email verified"))
}
