//! `POST /api/generate`: `{topic, options}` → 200 `{scenario, cached, saved}`
//! (saved to the caller's history when signed in), or, for a signed-in caller
//! asking for `async` or a `long` scenario, 202 `{jobId, status, pollUrl}`
//! (the `generation` job writes it). `Idempotency-Key` is honoured by the
//! pipeline (the route is marked idempotent).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::routes::job::{self, JobStarted};
use crate::scenario::{GenerationOptions, Length, Topic};
use whatif_shared::scenarios::Scenario;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateBody {
    /// 3–500 characters after trimming.
    #[schemars(with = "String", length(min = 3, max = 500))]
    pub topic: Topic,
    #[serde(default, deserialize_with = "whatif_shared::http::object")]
    pub options: GenerationOptions,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateAnswer {
    pub scenario: Scenario,
    /// Served from the 24 h cache (`forceNew` skips it).
    pub cached: bool,
    /// Saved to the caller's history (signed in).
    pub saved: bool,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: GenerateBody = req.json()?;
    let caller = req.principal.as_ref().map(|p| p.user_id.as_str());
    let engine = engine(&ctx).await?;
    if body.options.run_async && caller.is_none() {
        return Err(ApiError::unauthorized("Sign in to run a generation as a job (async)"));
    }
    if let Some(user) = caller
        && runs_as_job(&body.options)
    {
        // Screened before anything is queued: a blocked topic is a 422 now, not a failed job.
        engine.screen.check("topic", body.topic.as_str())?;
        let started: JobStarted = job::start(&ctx, user, &body.topic, &body.options).await?;
        return Ok(Reply::accepted(started).message("Generation started"));
    }
    let id = ctx.ids.ulid().to_string();
    let generated = engine.generate(&ctx, caller, id, &body.topic, &body.options).await?;
    Ok(Reply::ok(GenerateAnswer { scenario: generated.scenario, cached: generated.cached, saved: generated.saved }))
}

/// `async`, or a long scenario (its model call may outlast API Gateway's 29 s).
/// An anonymous caller cannot poll a job, so a long request from one runs now.
pub fn runs_as_job(options: &GenerationOptions) -> bool {
    options.run_async || options.length == Length::Long
}
