//! `GET /api/social/posts/{postId}`: one post, when the caller may see it
//! (`posts::visible_given`); 404 otherwise, as for a post that does not exist.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::views;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("postId")?.to_string();
    let viewer = Viewer::of(req.principal.as_ref());
    let post = posts::get_visible(&ctx, &id, viewer.as_ref()).await?;
    Ok(Reply::ok(views::post(&ctx, &post, viewer.as_ref().map(|v| &v.id)).await?))
}
