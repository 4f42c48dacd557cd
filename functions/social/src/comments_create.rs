//! `POST /api/social/comments`: a comment on a post the caller may see (404
//! otherwise), or a reply (`parentCommentId`, a visible comment of the same
//! post). A reply to a reply joins the same thread. The comment and every
//! counter it adds to are written in one transaction; the post's author
//! (and for a reply, the parent comment's author) is notified.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::social::comments;
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::{fields, views};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentBody {
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub post_id: String,
    #[schemars(schema_with = "fields::comment_content")]
    pub content: String,
    /// The comment this answers (of the same post).
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub parent_comment_id: Option<String>,
}

fn ulid(field: &str, raw: &str) -> ApiResult<String> {
    ulid::Ulid::from_string(raw).map(|u| u.to_string()).map_err(|_| ApiError::validation(field, "is not a valid id"))
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: CommentBody = req.json()?;
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let mut v = Validation::default();
    let post_id = v.check(ulid("postId", &body.post_id));
    let parent_id = body.parent_comment_id.as_deref().and_then(|p| v.check(ulid("parentCommentId", p)));
    let content = v.check(comments::content(&body.content));
    v.finish()?;
    let post = posts::get_visible(&ctx, &post_id.unwrap_or_default(), Some(&viewer)).await?;
    let parent = match parent_id {
        Some(id) => {
            let (parent, _) = comments::get_visible(&ctx, &id, Some(&viewer)).await?;
            if parent.post_id != post.id {
                return Err(ApiError::unprocessable("NOT_ON_POST", "parentCommentId is a comment of another post"));
            }
            Some(parent)
        }
        None => None,
    };
    let comment = comments::create(&ctx, &viewer.id, &post, parent.as_ref(), content.unwrap_or_default()).await?;
    let view = views::comments(&ctx, &[comment], Some(&viewer.id)).await?.pop();
    Ok(Reply::created(view).message("Comment posted"))
}
