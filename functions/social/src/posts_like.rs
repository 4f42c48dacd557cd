//! `POST /api/social/posts/{postId}/like`: likes the post, or takes the like
//! back when the caller liked it already; answers the count and the
//! caller's state after. Counts stay exact however many toggles race
//! (`likes::toggle`). A post the caller may not see is a 404.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::social::likes::{self, Liking, Target};
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LikeAnswer {
    pub likes: u64,
    /// Whether the caller likes it now.
    pub is_liked: bool,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("postId")?.to_string();
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let post = posts::get_visible(&ctx, &id, Some(&viewer)).await?;
    let author = post.author();
    let liking = Liking { target: Target::Post, target_id: &post.id, author: &author, post_id: &post.id };
    let liked = likes::toggle(&ctx, &viewer.id, liking).await?;
    Ok(Reply::ok(LikeAnswer { likes: liked.likes, is_liked: liked.is_liked }))
}
