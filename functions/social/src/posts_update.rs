//! `PUT /api/social/posts/{postId}`: the author changes their post's title,
//! content, type, visibility or tags (only those: anything else is a 400).
//! Someone else's post is a 404 when they may not see it and a 403 when
//! they may. Making a post public puts it in the public feed; any other
//! visibility takes it out.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::social::posts::{self, PostChanges, PostType, Viewer, Visibility};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::{fields, views};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostEditBody {
    #[serde(default)]
    #[schemars(schema_with = "fields::optional_title")]
    pub title: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "fields::optional_post_content")]
    pub content: Option<String>,
    #[serde(rename = "type")]
    pub post_type: Option<PostType>,
    pub visibility: Option<Visibility>,
    #[serde(default)]
    #[schemars(schema_with = "fields::optional_tags")]
    pub tags: Option<Vec<String>>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("postId")?.to_string();
    let body: PostEditBody = req.json()?;
    let viewer = Viewer::of(req.principal.as_ref()).ok_or_else(|| ApiError::unauthorized("Sign in first"))?;
    let mut v = Validation::default();
    let changes = PostChanges {
        title: body.title.as_deref().and_then(|t| v.check(posts::title(t))),
        content: body.content.as_deref().and_then(|c| v.check(posts::content(c))),
        post_type: body.post_type,
        visibility: body.visibility,
        tags: body.tags.as_deref().and_then(|t| v.check(posts::tags(t))),
    };
    v.finish()?;
    let post = posts::get_visible(&ctx, &id, Some(&viewer)).await?;
    if post.author_id != viewer.id.as_str() {
        return Err(ApiError::forbidden("Only its author may edit a post"));
    }
    let post = posts::update(&ctx, &post, changes).await?;
    Ok(Reply::ok(views::post(&ctx, &post, Some(&viewer.id)).await?).message("Post updated"))
}
