//! `POST /api/batch-generate`: `{topics[1..5], options}` → 202 `{batchId,
//! jobs[]}`, one `generation` job per topic (each polled and cancelled on its
//! own). Every topic is checked and screened before any job is queued.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::engine::engine;
use crate::routes::job::{self, JobStarted};
use crate::scenario::{GenerationOptions, Topic};

pub const MAX_TOPICS: usize = 5;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchBody {
    /// 1–5 topics, each 3–500 characters.
    #[schemars(with = "Vec<String>")]
    pub topics: Vec<Topic>,
    #[serde(default)]
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
    let batch_id = ctx.ids.ulid().to_string();
    let mut jobs = Vec::with_capacity(body.topics.len());
    for topic in &body.topics {
        jobs.push(job::start(&ctx, &user, topic, &body.options, Some(&batch_id)).await?);
    }
    Ok(Reply::accepted(BatchAnswer { batch_id, jobs }).message("Batch started"))
}
