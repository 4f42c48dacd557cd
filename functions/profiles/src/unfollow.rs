//! `DELETE /api/profiles/{userId}/follow`: the caller stops following an
//! account (also one that has gone private since); not following changes
//! nothing.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::social::follows::{self, Changed};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::follow::{FollowState, not_yourself};
use crate::visible;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?.id();
    let followee = visible::path_user(&req)?;
    if followee == me {
        return Err(not_yourself());
    }
    let changed = follows::unfollow(&ctx, &me, &followee).await?;
    let message = if changed == Changed::Yes { "Unfollowed" } else { "Not following" };
    Ok(Reply::ok(FollowState::of(&ctx, &followee, false).await?).message(message))
}
