//! `POST /api/regenerate`: `{topic, previousScenarioId?, options}` → a new
//! version, always a fresh model call (no cache), linked by `versionOf` to
//! the caller's previous scenario; saved when signed in.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::routes::generate::GenerateAnswer;
use crate::scenario::{GenerationOptions, Topic};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegenerateBody {
    /// 3–500 characters (trimmed), no control characters.
    #[schemars(with = "String", length(min = 3, max = 500))]
    pub topic: Topic,
    /// The caller's scenario this one is a new version of (sign in for it).
    #[serde(default)]
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub previous_scenario_id: Option<String>,
    #[serde(default, deserialize_with = "whatif_shared::http::object")]
    pub options: GenerationOptions,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: RegenerateBody = req.json()?;
    if let Some(id) = &body.previous_scenario_id
        && ulid::Ulid::from_string(id).is_err()
    {
        return Err(ApiError::validation("previousScenarioId", "is not a valid id"));
    }
    let caller = req.principal.as_ref().map(|p| p.user_id.as_str());
    let engine = engine(&ctx).await?;
    let id = ctx.ids.ulid().to_string();
    let generated =
        engine.regenerate(&ctx, caller, id, &body.topic, body.previous_scenario_id.as_deref(), &body.options).await?;
    Ok(Reply::ok(GenerateAnswer { scenario: generated.scenario, cached: false, saved: generated.saved }))
}
