//! `PUT /api/social/comments/{commentId}`: the author edits the text of
//! their comment (`{content}` only). Someone else's is a 403 when they can
//! see it, a 404 when they cannot.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::social::comments;
use whatif_shared::social::posts::Viewer;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::{fields, views};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentEditBody {
    #[schemars(schema_with = "fields::comment_content")]
    pub content: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("commentId")?.to_string();
    let body: CommentEditBody = req.json()?;
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let content = comments::content(&body.content)?;
    let (comment, _) = comments::get_visible(&ctx, &id, Some(&viewer)).await?;
    if comment.author_id != viewer.id.as_str() {
        return Err(ApiError::forbidden("Only its author may edit a comment"));
    }
    let comment = comments::update(&ctx, &comment, content).await?;
    let view = views::comments(&ctx, &[comment], Some(&viewer.id)).await?.pop();
    Ok(Reply::ok(view).message("Comment updated"))
}
