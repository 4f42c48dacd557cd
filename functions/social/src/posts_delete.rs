//! `DELETE /api/social/posts/{postId}`: its author, or a moderator, deletes a
//! post, with its comments and likes; every counter they touched is
//! corrected (`posts::delete`). Someone else may not (403 when they can see
//! it, 404 when they cannot).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    pub deleted: bool,
    pub id: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("postId")?.to_string();
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let post = posts::get_visible(&ctx, &id, Some(&viewer)).await?;
    if post.author_id != viewer.id.as_str() && !viewer.is_moderator() {
        return Err(ApiError::forbidden("Only its author or a moderator may delete a post"));
    }
    posts::delete(&ctx, &post).await?;
    if post.author_id != viewer.id.as_str() {
        tracing::info!(post_id = %id, moderator = %viewer.id, "a moderator deleted a post");
    }
    Ok(Reply::ok(Deleted { deleted: true, id }).message("Post deleted"))
}
