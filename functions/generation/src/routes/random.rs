//! `GET /api/random`: a curated topic (by `promptType` and `language` when
//! given; else in the first language of `Accept-Language` we write, else
//! English) and, unless `generate=false`, a scenario generated for it (saved
//! when signed in), as `{topic, promptType, language, scenario}`.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::scenario::{GenerationOptions, Language, PromptType};
use crate::topics;
use whatif_shared::scenarios::Scenario;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RandomQuery {
    #[serde(default)]
    pub prompt_type: Option<PromptType>,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub generate: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RandomAnswer {
    pub topic: String,
    pub prompt_type: PromptType,
    pub language: String,
    /// Absent with `generate=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Scenario>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let query: RandomQuery = req.query_as()?;
    let random = ctx.ids.ulid().random() as u64;
    let prompt_type = query.prompt_type.unwrap_or(PromptType::ALL[(random % 8) as usize]);
    let language =
        query.language.or_else(|| req.header("accept-language").and_then(Language::preferred)).unwrap_or(Language::En);
    let topic = topics::pick(language, prompt_type, random >> 3).map_err(ApiError::internal)?;
    let scenario = if query.generate.unwrap_or(true) {
        let caller = req.principal.as_ref().map(|p| p.user_id.as_str());
        let options = GenerationOptions { prompt_type, language: Some(language), ..Default::default() };
        let engine = engine(&ctx).await?;
        let id = ctx.ids.ulid().to_string();
        Some(engine.generate(&ctx, caller, id, &topic, &options).await?.scenario)
    } else {
        None
    };
    Ok(Reply::ok(RandomAnswer { topic: topic.to_string(), prompt_type, language: language.to_string(), scenario }))
}
