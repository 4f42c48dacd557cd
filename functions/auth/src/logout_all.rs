//! `POST /api/auth/logout-all`: closes every session of the account.

use std::sync::Arc;

use serde_json::json;
use whatif_shared::accounts::{sessions, store};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?;
    sessions::revoke_all(&ctx, &user.user_id, None).await?;
    store::revoke_tokens_before_now(&ctx, &user.user_id).await?;
    Ok(Reply::ok(json!({})).message("Signed out everywhere"))
}
