//! `POST /api/scenarios/{id}/continue`: `{choiceId}` or `{customChoice}` → 201
//! `{scenario}`, a child of the caller's scenario `{id}` that follows that
//! branch (a custom choice is screened like a topic). 404 for a scenario the
//! caller cannot see, 403 for someone else's public one.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::service::NextStep;
use whatif_shared::scenarios::Scenario;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContinueBody {
    /// One of the parent's `choices[].id`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub choice_id: Option<String>,
    /// The caller's own next step, 3–500 characters (instead of `choiceId`).
    #[serde(default)]
    #[schemars(length(min = 3, max = 500))]
    pub custom_choice: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContinueAnswer {
    pub scenario: Scenario,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let parent_id = req.path_ulid("id")?.to_string();
    let user = req.user()?.user_id.clone();
    let body: ContinueBody = req.json()?;
    let next = match (body.choice_id, body.custom_choice) {
        (Some(id), None) if !id.trim().is_empty() && id.len() <= 64 => NextStep::Choice(id),
        (Some(_), None) => return Err(ApiError::validation("choiceId", "must be 1 to 64 characters")),
        (None, Some(text)) => NextStep::Custom(text),
        _ => return Err(ApiError::validation("body", "give exactly one of choiceId and customChoice")),
    };
    let engine = engine(&ctx).await?;
    let id = ctx.ids.ulid().to_string();
    let scenario = engine.continue_from(&ctx, &user, id, &parent_id, next).await?;
    Ok(Reply::created(ContinueAnswer { scenario }))
}
