//! `POST /api/auth/resend-verification`: another verification email (400 when
//! the address is already verified).

use std::sync::Arc;

use serde_json::json;
use whatif_shared::accounts::store;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let principal = req.user()?;
    let user = store::get_user(&ctx, &principal.user_id).await?.ok_or_else(|| ApiError::not_found("Account"))?;
    if user.email_verified {
        return Err(ApiError::bad_request("ALREADY_VERIFIED", "The email address is already verified"));
    }
    crate::register::send_verification(&ctx, &user.id, &user.email).await;
    Ok(Reply::ok(json!({})).message("Verification email sent"))
}
