//! `POST /api/batch-generate`: `{topics[1..5], options}` → 202 `{batchId,
//! jobs[]}`, one `generation` job per topic (each polled and cancelled on its
//! own). Every topic is checked and screened before any job is queued, and
//! every topic counts against the caller's `generate` limit: the pipeline
//! counts the request as one, this handler the other topics, all or none
//! (429, nothing queued, when they do not fit in what is left).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::credits::Spending;
use whatif_shared::ratelimit::{self, RateClass, Window};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::routes::job::{self, JobStarted};
use crate::scenario::{GenerationOptions, Topic};

pub const MAX_TOPICS: usize = 5;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchBody {
    /// 1–5 topics, each 3–500 characters.
    #[schemars(with = "Vec<String>", length(min = 1, max = 5))]
    pub topics: Vec<Topic>,
    #[serde(default, deserialize_with = "whatif_shared::http::object")]
    pub options: GenerationOptions,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchAnswer {
    pub batch_id: String,
    pub jobs: Vec<JobStarted>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.user_id.clone();
    let body: BatchBody = req.json()?;
    if body.topics.is_empty() || body.topics.len() > MAX_TOPICS {
        return Err(ApiError::validation("topics", format!("must hold 1 to {MAX_TOPICS} topics")));
    }
    let engine = engine(&ctx).await?;
    for topic in &body.topics {
        engine.screen.check("topics", topic.as_str())?;
    }
    let rate = charge_other_topics(&ctx, &req, body.topics.len()).await?;
    let batch_id = ctx.ids.ulid().to_string();
    let jobs = job::start_many(&ctx, &user, &body.topics, &body.options, Some(&batch_id), Spending::BatchTopic).await?;
    let mut reply = Reply::accepted(BatchAnswer { batch_id, jobs }).message("Batch started");
    if let Some(d) = rate {
        // What is left after every topic (the pipeline's headers only know of the first).
        for (name, value) in
            [("x-ratelimit-limit", d.limit.to_string()), ("x-ratelimit-remaining", d.remaining.to_string())]
        {
            reply = reply.header(http::HeaderName::from_static(name), &value);
        }
        reply = reply.header(http::HeaderName::from_static("x-ratelimit-reset"), &d.reset.to_string());
    }
    Ok(reply)
}

/// Counts the topics after the first (which the pipeline counted) against the
/// caller's `generate` limit, all or none: 429 when they do not fit.
async fn charge_other_topics(
    ctx: &AppContext,
    req: &ApiRequest,
    topics: usize,
) -> ApiResult<Option<ratelimit::Decision>> {
    let extra = u32::try_from(topics.saturating_sub(1)).unwrap_or(u32::MAX);
    if extra == 0 {
        return Ok(None);
    }
    let subject = ratelimit::subject(req.principal.as_ref(), req.source_ip);
    let window =
        Window::of(&*ctx.clock, &ctx.config.rate_limits, RateClass::Generate, req.principal.as_ref(), &subject);
    match window.take(&*ctx.table, extra).await {
        Ok(d) if d.allowed => Ok(Some(d)),
        Ok(d) => {
            // Refused whole, so it costs nothing: the pipeline's count goes back too.
            if let Err(e) = window.give_back(&*ctx.table, 1).await {
                tracing::error!(error = %e, "could not uncount a refused batch");
            }
            Err(ApiError::rate_limited(d.retry_after).with_message(format!(
                "This batch needs {topics} generations; {} are left in this window",
                d.remaining + 1
            )))
        }
        // Fail open, as the pipeline does: the store being down must not refuse every batch.
        Err(e) => {
            tracing::error!(error = %e, "rate limiter unavailable");
            Ok(None)
        }
    }
}
