//! `POST /api/social/comments/{commentId}/like`: likes a comment, or takes
//! the like back; `{likes, isLiked}` after. A comment the caller may not
//! see (its post's visibility, or hidden) is a 404.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::social::comments;
use whatif_shared::social::likes::{self, Liking, Target};
use whatif_shared::social::posts::Viewer;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::posts_like::LikeAnswer;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("commentId")?.to_string();
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let (comment, post) = comments::get_visible(&ctx, &id, Some(&viewer)).await?;
    let author = comment.author();
    let liking = Liking { target: Target::Comment, target_id: &comment.id, author: &author, post_id: &post.id };
    let liked = likes::toggle(&ctx, &viewer.id, liking).await?;
    Ok(Reply::ok(LikeAnswer { likes: liked.likes, is_liked: liked.is_liked }))
}
