//! `POST /api/profiles/{userId}/follow`: the caller follows a public
//! account; following again changes nothing. The followee is notified once,
//! when the follow is new.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::social::follows::{self, Changed};
use whatif_shared::social::notify::{self, Kind, Notice};
use whatif_shared::social::stats;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId};

use crate::visible;

/// Whether the caller follows the account now, and its follower count.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowState {
    pub user_id: String,
    pub following: bool,
    pub followers: u64,
}

impl FollowState {
    pub async fn of(ctx: &AppContext, followee: &UserId, following: bool) -> ApiResult<Self> {
        let followers = stats::get(ctx, followee).await?.followers;
        Ok(FollowState { user_id: followee.to_string(), following, followers })
    }
}

pub fn not_yourself() -> ApiError {
    ApiError::unprocessable("CANNOT_FOLLOW_SELF", "An account cannot follow itself")
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?.id();
    let followee = visible::path_user(&req)?;
    if followee == me {
        return Err(not_yourself());
    }
    visible::public_account(&ctx, &followee).await?;
    let changed = follows::follow(&ctx, &me, &followee).await?;
    if changed == Changed::Yes {
        let notice = Notice {
            kind: Kind::Follow,
            actor: Some(me.clone()),
            target_type: "user",
            target_id: me.to_string(),
            post_id: None,
            text: None,
        };
        notify::send(&ctx, &followee, notice).await;
    }
    let message = if changed == Changed::Yes { "Following" } else { "Already following" };
    Ok(Reply::ok(FollowState::of(&ctx, &followee, true).await?).message(message))
}
