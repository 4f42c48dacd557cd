//! `DELETE /api/social/comments/{commentId}`: its author, or a moderator,
//! deletes a comment (a top-level one with its replies), with its likes and
//! every counter they touched corrected.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::social::comments;
use whatif_shared::social::posts::Viewer;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::posts_delete::Deleted;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("commentId")?.to_string();
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let (comment, _) = comments::get_visible(&ctx, &id, Some(&viewer)).await?;
    if comment.author_id != viewer.id.as_str() && !viewer.is_moderator() {
        return Err(ApiError::forbidden("Only its author or a moderator may delete a comment"));
    }
    comments::delete(&ctx, &comment).await?;
    Ok(Reply::ok(Deleted { deleted: true, id }).message("Comment deleted"))
}
