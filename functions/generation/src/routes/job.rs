//! The `generation` job: one scenario for a signed-in user, from an `async`
//! or long `POST /api/generate` or one topic of `POST /api/batch-generate`.
//!
//! Idempotent under at-least-once delivery: the scenario's id is fixed when
//! the job is queued, its save never overwrites, and a run that finds the
//! scenario already saved (a worker that crashed after saving) just records
//! it, so a redelivered message never makes a second scenario. While the
//! model works, the job's record is checked every [`CANCEL_CHECK`]; a
//! cancelled job stops its model call at once and saves nothing more.

use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use whatif_shared::accounts;
use whatif_shared::context::AppContext;
use whatif_shared::credits::{Charge, Spending};
use whatif_shared::jobs::records::NewJob;
use whatif_shared::jobs::{JobError, JobKind, JobMessage, JobStatus, records};
use whatif_shared::metrics::{Observation, Unit};
use whatif_shared::{ApiError, ApiResult, ScenarioId, UserId};

use crate::engine::engine;
use crate::scenario::{GenerationOptions, Topic};
use whatif_shared::scenarios::store::{self, Scenario};

pub const KIND: &str = "generation";

pub const JOB: JobKind =
    JobKind { name: KIND, handler: |ctx, message| Box::pin(run(ctx, message)), access: super::JOB_ACCESS };

/// How often a running job looks for its cancellation.
pub const CANCEL_CHECK: Duration = Duration::from_millis(500);

/// What the job record keeps to run the job.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JobInput {
    scenario_id: String,
    topic: Topic,
    options: GenerationOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_id: Option<String>,
}

/// A queued generation, as the client sees it (202).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStarted {
    pub job_id: String,
    pub status: JobStatus,
    /// `GET` it for the status and, once `succeeded`, `result.scenario`.
    pub poll_url: String,
    /// The topic (batch answers carry one per job).
    pub topic: String,
}

/// Queues a generation for `user`, paid for with its record.
pub async fn start(ctx: &AppContext, user: &str, topic: &Topic, options: &GenerationOptions) -> ApiResult<JobStarted> {
    let mut started = start_many(ctx, user, std::slice::from_ref(topic), options, None, Spending::Generation).await?;
    started.pop().ok_or_else(|| ApiError::internal("a generation was queued without its job"))
}

/// Queues one generation per topic for `user`, all or none: their records
/// and their debits go in one transaction (402, nothing queued, when the
/// balance cannot pay for every one).
pub async fn start_many(
    ctx: &AppContext,
    user: &str,
    topics: &[Topic],
    options: &GenerationOptions,
    batch_id: Option<&str>,
    spending: Spending,
) -> ApiResult<Vec<JobStarted>> {
    let mut jobs = Vec::with_capacity(topics.len());
    for topic in topics {
        let input = JobInput {
            scenario_id: ctx.ids.ulid().to_string(),
            topic: topic.clone(),
            options: options.clone(),
            batch_id: batch_id.map(str::to_string),
        };
        let id = ctx.ids.ulid().to_string();
        jobs.push(NewJob {
            charge: Some(Charge::new(ctx, spending, &id)),
            id,
            kind: KIND.to_string(),
            input: serde_json::to_value(&input).map_err(ApiError::internal)?,
        });
    }
    let records = records::enqueue_charged(ctx, user, jobs, Vec::new()).await?;
    Ok(records
        .into_iter()
        .zip(topics)
        .map(|(job, topic)| JobStarted {
            poll_url: format!("/api/jobs/{}", job.id),
            job_id: job.id,
            status: job.status,
            topic: topic.as_str().to_string(),
        })
        .collect())
}

pub async fn run(ctx: Arc<AppContext>, message: JobMessage) -> Result<(), JobError> {
    let retry = |e: ApiError| JobError::Retry(e.message);
    let Some(job) = records::get(&ctx, &message.job_id).await.map_err(retry)? else {
        return Err(JobError::Fail("the job record is gone".into()));
    };
    if job.status.is_final() {
        return Ok(());
    }
    // An account closed, suspended or banned since the job was queued gets
    // nothing more written for it.
    match accounts::store::get_user(&ctx, &job.user_id).await.map_err(retry)? {
        Some(user) => {
            accounts::store::ensure_active(&user, ctx.clock.epoch_seconds()).map_err(|e| JobError::Fail(e.message))?
        }
        None => return Err(JobError::Fail("the account no longer exists".into())),
    }
    let input: JobInput = serde_json::from_value(job.input.clone())
        .map_err(|e| JobError::Fail(format!("the job's input does not read: {e}")))?;
    // A worker may have crashed after saving: then record what it saved.
    let (owner, scenario_id) = (UserId::from_trusted(&job.user_id), ScenarioId::from_trusted(&input.scenario_id));
    if let Some(saved) = store::get_owned(&ctx, &owner, &scenario_id).await.map_err(retry)? {
        return succeed(&ctx, &job.id, saved, 0).await;
    }
    records::update(&ctx, &job.id, JobStatus::Running, 10, None, None).await.map_err(retry)?;
    let engine = engine(&ctx).await.map_err(retry)?;
    let started = Instant::now();
    // Paid for when it was queued (refunded by the job record if it fails).
    let work =
        engine.generate_prepaid(&ctx, Some(&job.user_id), input.scenario_id.clone(), &input.topic, &input.options);
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = cancelled(&ctx, &job.id) => {
            tracing::info!("generation job cancelled; its model call was stopped");
            return Ok(());
        }
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(generated) => succeed(&ctx, &job.id, generated.scenario, latency_ms).await,
        // Another delivery of this job saved it first.
        Err(e) if e.code == "SCENARIO_EXISTS" => {
            match store::get_owned(&ctx, &owner, &scenario_id).await.map_err(retry)? {
                Some(saved) => succeed(&ctx, &job.id, saved, latency_ms).await,
                None => Err(JobError::Retry("the scenario exists but cannot be read yet".into())),
            }
        }
        // Outages (no provider answered, the store) are worth another try.
        Err(e) if e.status.is_server_error() => Err(JobError::Retry(e.message)),
        // Blocked, refused, bad input: the same answer every time.
        Err(e) => Err(JobError::Fail(e.message)),
    }
}

async fn succeed(ctx: &AppContext, job_id: &str, scenario: Scenario, latency_ms: u64) -> Result<(), JobError> {
    let mut observation = Observation::new("generation_job")
        .dimension("provider", scenario.provider.as_str())
        .value("JobTokens", f64::from(scenario.tokens.total), Unit::Count)
        .value("JobLatency", latency_ms as f64, Unit::Milliseconds);
    if let Some(cost) = scenario.cost_usd {
        observation = observation.value("JobCostUsd", cost, Unit::None);
    }
    observation.emit();
    let result = json!({
        "scenarioId": scenario.id,
        "scenario": scenario,
        "usage": {"tokens": scenario.tokens, "costUsd": scenario.cost_usd, "latencyMs": latency_ms},
    });
    records::update(ctx, job_id, JobStatus::Succeeded, 100, Some(result), None)
        .await
        .map_err(|e| JobError::Retry(e.message))
}

/// Resolves once the job's record says `cancelled` (or is gone).
async fn cancelled(ctx: &AppContext, job_id: &str) {
    loop {
        tokio::time::sleep(CANCEL_CHECK).await;
        match records::get(ctx, job_id).await {
            Ok(None) => return,
            Ok(Some(job)) if job.status == JobStatus::Cancelled => return,
            Ok(Some(_)) => {}
            Err(e) => tracing::warn!(error = %e.message, "cannot read the job to check for cancellation"),
        }
    }
}
