//! `PATCH /api/scenarios/{id}`: the owner changes `title`, `tags`,
//! `isFavorite`, `rating` (null clears it) or `isPublic`. Optimistic
//! concurrency: `If-Match: "<version>"` (from `GET`'s `ETag`) or a `version`
//! field; a stale one is 409 `VERSION_MISMATCH`, never a lost update.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId};

use crate::fields::{Rating, Tag, Title, tag_set};
use crate::{ScenarioAnswer, etag, expected_version};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBody {
    pub title: Option<Title>,
    /// Replaces the tags: at most 20, each 1–30 letters, digits, spaces, `-`, `_`.
    #[schemars(length(max = 20))]
    pub tags: Option<Vec<Tag>>,
    pub is_favorite: Option<bool>,
    /// 1–5, or null to clear.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub rating: Option<Option<Rating>>,
    pub is_public: Option<bool>,
    /// The version the change is based on (or send `If-Match`).
    pub version: Option<u64>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = ScenarioId::from(req.path_ulid("id")?);
    let user = req.user()?.id();
    let body: UpdateBody = req.json()?;
    let expected = expected_version(&req, body.version)?;
    let tags = match body.tags {
        Some(tags) => {
            Some(tag_set(tags.iter().map(|t| t.as_str().to_string())).map_err(|e| ApiError::validation("tags", e))?)
        }
        None => None,
    };
    if body.title.is_none()
        && tags.is_none()
        && body.is_favorite.is_none()
        && body.rating.is_none()
        && body.is_public.is_none()
    {
        return Err(ApiError::validation("body", "give at least one of title, tags, isFavorite, rating, isPublic"));
    }
    let updated = store::edit(&ctx, &user, &id, expected, |s| {
        if s.is_deleted() {
            return Err(ApiError::not_found("Scenario"));
        }
        if let Some(title) = &body.title {
            s.title = title.clone().into_string();
        }
        if let Some(tags) = &tags {
            s.tags = tags.clone();
        }
        if let Some(favorite) = body.is_favorite {
            s.is_favorite = favorite;
        }
        if let Some(rating) = body.rating {
            s.rating = rating.map(Rating::get);
        }
        if let Some(public) = body.is_public {
            s.is_public = public;
        }
        Ok(Vec::new())
    })
    .await?;
    let tag = etag(updated.version);
    Ok(Reply::ok(ScenarioAnswer { scenario: updated }).header(http::header::ETAG, &tag))
}
