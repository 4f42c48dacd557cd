//! `POST /api/social/posts`: the caller publishes a post. Only its own
//! fields (title, content, type, visibility, tags, scenarioId); likes,
//! counts, the author and moderation are the server's. A `scenarioId` must
//! be the caller's scenario or a public one (404 otherwise). The post and one
//! more on the author's `posts` are written in one transaction.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::scenarios::store;
use whatif_shared::social::posts::{self, NewPost, PostType, Visibility};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId};

use crate::{fields, views};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPostBody {
    #[schemars(schema_with = "fields::title")]
    pub title: String,
    #[schemars(schema_with = "fields::post_content")]
    pub content: String,
    #[serde(rename = "type")]
    pub post_type: PostType,
    pub visibility: Visibility,
    #[serde(default)]
    #[schemars(schema_with = "fields::tags")]
    pub tags: Vec<String>,
    /// The scenario it is about: the caller's own, or a public one.
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub scenario_id: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: NewPostBody = req.json()?;
    let author = req.user()?.id();
    let mut v = Validation::default();
    let title = v.check(posts::title(&body.title));
    let content = v.check(posts::content(&body.content));
    let tags = v.check(posts::tags(&body.tags));
    let scenario = match &body.scenario_id {
        Some(raw) => {
            v.check(ScenarioId::parse(raw).map_err(|_| ApiError::validation("scenarioId", "is not a valid id")))
        }
        None => None,
    };
    v.finish()?;
    if let Some(id) = &scenario {
        store::get_visible(&ctx, Some(&author), id).await?;
    }
    let new = NewPost {
        title: title.unwrap_or_default(),
        content: content.unwrap_or_default(),
        post_type: body.post_type,
        visibility: body.visibility,
        tags: tags.unwrap_or_default(),
        scenario_id: scenario.map(ScenarioId::into_string),
    };
    let post = posts::create(&ctx, &author, new).await?;
    Ok(Reply::created(views::post(&ctx, &post, Some(&author)).await?).message("Post published"))
}
