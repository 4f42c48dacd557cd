//! Job workers: what runs the messages of the job queue, in the local server
//! (in-process, `run_worker`) and in the SQS-triggered worker Lambda
//! (`process`) alike.
//!
//! Delivery is at least once, so every job kind must be idempotent (the kind
//! records its own progress in the table). While a job runs, its message's
//! visibility is extended (a heartbeat), so a live job is never handed to a
//! second worker, and a crashed one comes back after `VISIBILITY`. A job that
//! keeps failing goes to the dead-letter queue after the configured number of
//! receives.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::context::AppContext;
use crate::ports::Delivery;

/// The body of a job message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobMessage {
    /// Which `JobKind` runs it.
    pub kind: String,
    /// The job's id (its state lives in the table under this id).
    pub job_id: String,
}

impl JobMessage {
    pub fn new(kind: &str, job_id: &str) -> Self {
        Self { kind: kind.to_string(), job_id: job_id.to_string() }
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (a dependency failed): the message stays queued.
    #[error("retry: {0}")]
    Retry(String),
    /// Will never succeed: the message is removed and the job's record says
    /// `failed` with this reason, which its owner reads (no internal detail).
    #[error("failed: {0}")]
    Fail(String),
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
pub type JobHandler = fn(Arc<AppContext>, JobMessage) -> JobFuture;

/// One kind of job, and the function that runs it.
#[derive(Clone, Copy)]
pub struct JobKind {
    pub name: &'static str,
    pub handler: JobHandler,
    /// What the job touches; the job worker's IAM is the union of its kinds'.
    pub access: &'static [crate::routes::Access],
}

/// How long a received message stays hidden, and how often a running job
/// renews that (the heartbeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub visibility: Duration,
    pub heartbeat: Duration,
}

impl Default for Lease {
    fn default() -> Self {
        Self::of(Duration::from_secs(60))
    }
}

impl Lease {
    /// Hidden for `visibility`, renewed every third of it.
    pub fn of(visibility: Duration) -> Self {
        Self { visibility, heartbeat: visibility / 3 }
    }

    /// The lease `config` sets (`WHATIF_JOB_VISIBILITY_SECS`).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self::of(Duration::from_secs(u64::from(config.job_visibility_secs)))
    }
}

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or failed for good): remove the message.
    Delete,
    /// Leave it: it comes back after its visibility timeout, and goes to the
    /// dead-letter queue once it has been received too often.
    Retry,
}

/// Runs one delivery, renewing its visibility while it runs.
pub async fn process(ctx: &Arc<AppContext>, kinds: &[&JobKind], delivery: &Delivery, lease: Lease) -> Outcome {
    let message: JobMessage = match serde_json::from_str(&delivery.body) {
        Ok(m) => m,
        Err(e) => {
            // Nothing can ever run it; keep it for inspection in the dead-letter queue.
            tracing::error!(message_id = %delivery.message_id, error = %e, "unreadable job message");
            return Outcome::Retry;
        }
    };
    let span =
        tracing::info_span!("job", kind = %message.kind, job_id = %message.job_id, attempt = delivery.receive_count);
    run_in_span(ctx, kinds, delivery, lease, message).instrument(span).await
}

/// `process` once the message is read, inside the job's span (instrumented,
/// never entered: a guard held across an `.await` would tag whatever else the
/// thread runs meanwhile with this job's id).
async fn run_in_span(
    ctx: &Arc<AppContext>,
    kinds: &[&JobKind],
    delivery: &Delivery,
    lease: Lease,
    message: JobMessage,
) -> Outcome {
    let Some(kind) = kinds.iter().find(|k| k.name == message.kind) else {
        tracing::error!("no worker for this job kind");
        return Outcome::Retry;
    };
    let started = std::time::Instant::now();
    let job_id = message.job_id.clone();
    let run = (kind.handler)(ctx.clone(), message);
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            _ = tokio::time::sleep(lease.heartbeat) => {
                if let Err(e) = ctx.queue.extend(&delivery.receipt, lease.visibility).await {
                    tracing::warn!(error = %e, "heartbeat failed");
                }
            }
        }
    };
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(()) => {
            tracing::info!(duration_ms = ms, "job done");
            Outcome::Delete
        }
        Err(JobError::Fail(reason)) => {
            tracing::warn!(duration_ms = ms, %reason, "job failed");
            record_failure(ctx, &job_id, &reason).await;
            Outcome::Delete
        }
        Err(JobError::Retry(reason)) if delivery.receive_count >= ctx.config.queue_max_receives => {
            // This was the last receive: the message goes to the dead-letter
            // queue, so the owner must not see the job as running for ever.
            // The reason may carry internal detail: it is logged, not shown.
            tracing::error!(duration_ms = ms, %reason, "job failed on its last attempt; dead-lettered");
            let shown = format!("The job failed after {} attempts", delivery.receive_count);
            record_failure(ctx, &job_id, &shown).await;
            Outcome::Retry
        }
        Err(JobError::Retry(reason)) => {
            tracing::warn!(duration_ms = ms, %reason, "job will be retried");
            Outcome::Retry
        }
    }
}

async fn record_failure(ctx: &AppContext, job_id: &str, reason: &str) {
    if let Err(e) = records::fail(ctx, job_id, reason).await {
        tracing::error!(error = %e.message, "could not record the job's failure");
    }
}

/// The in-process worker of the local server: receives and runs jobs until
/// `shutdown` resolves (a job under way is finished first).
pub async fn run_worker(
    ctx: Arc<AppContext>,
    kinds: Vec<&'static JobKind>,
    lease: Lease,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let received = tokio::select! {
            _ = &mut shutdown => return,
            received = ctx.queue.receive(10, lease.visibility, Duration::from_secs(5)) => received,
        };
        let deliveries = match received {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "job queue unavailable");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let runs = deliveries.iter().map(|delivery| {
            let (ctx, kinds) = (ctx.clone(), kinds.clone());
            async move {
                if process(&ctx, &kinds, delivery, lease).await == Outcome::Delete
                    && let Err(e) = ctx.queue.delete(&delivery.receipt).await
                {
                    tracing::error!(error = %e, "could not delete a finished job message");
                }
            }
        });
        futures::future::join_all(runs).await;
    }
}

/// A job as its owner sees it (`GET /api/jobs/{jobId}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub id: String,
    /// The job kind, e.g. `account-export`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub user_id: String,
    pub status: JobStatus,
    pub progress: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the job works on (kind-specific; never shown).
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub input: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled)
    }
}

/// Job records in the table (the message on the queue only names the job).
pub mod records {
    use serde_json::{Value, json};

    use super::{JobMessage, JobRecord, JobStatus};
    use crate::clock::rfc3339;
    use crate::context::AppContext;
    use crate::credits::{self, Charge, ChargeFailure};
    use crate::error::{ApiError, ApiResult};
    use crate::ids::UserId;
    use crate::keys;
    use crate::ports::StoreError;
    use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, Item, PK, SK, TxOp, Update};

    /// The job item's record of what it cost: `{credits, reason}`.
    pub const CHARGE: &str = "charge";
    /// Set when the job's charge was given back.
    const REFUNDED: &str = "refunded";

    /// Records a job and queues it. The record is written first, so a worker
    /// always finds what it is told to run.
    pub async fn enqueue(ctx: &AppContext, kind: &str, user_id: &str, input: Value) -> ApiResult<JobRecord> {
        enqueue_as(ctx, &ctx.ids.ulid().to_string(), kind, user_id, input).await
    }

    /// [`enqueue`] with the job's id chosen by the caller (a service that
    /// keeps its own item under the same id writes it first).
    pub async fn enqueue_as(
        ctx: &AppContext,
        job_id: &str,
        kind: &str,
        user_id: &str,
        input: Value,
    ) -> ApiResult<JobRecord> {
        let job = NewJob { id: job_id.to_string(), kind: kind.to_string(), input, charge: None };
        let mut records = enqueue_charged(ctx, user_id, vec![job], Vec::new()).await?;
        records.pop().ok_or_else(|| ApiError::internal("a job was queued without its record"))
    }

    /// A job to queue with [`enqueue_charged`].
    pub struct NewJob {
        pub id: String,
        pub kind: String,
        pub input: Value,
        /// What it costs (debited with its record, refunded once when it
        /// fails or is cancelled before it produced anything).
        pub charge: Option<Charge>,
    }

    /// Records `jobs` of `user_id`, with `extra` operations (a service's own
    /// items) and the debits of their charges, in ONE transaction, then
    /// queues them: a job is never paid for without its record, nor
    /// recorded without its payment. 402 when the balance cannot pay; 409
    /// when an `extra` item's condition fails.
    pub async fn enqueue_charged(
        ctx: &AppContext,
        user_id: &str,
        jobs: Vec<NewJob>,
        extra: Vec<TxOp>,
    ) -> ApiResult<Vec<JobRecord>> {
        let now = rfc3339(ctx.clock.now());
        let user = UserId::from_trusted(user_id);
        let mut ops = Vec::with_capacity(jobs.len() * 2 + extra.len() + 1);
        let mut records = Vec::with_capacity(jobs.len());
        let mut charges = Vec::new();
        for job in jobs {
            let record = JobRecord {
                id: job.id,
                kind: job.kind,
                user_id: user_id.to_string(),
                status: JobStatus::Queued,
                progress: 0,
                result: None,
                error: None,
                input: job.input,
                created_at: now.clone(),
                updated_at: now.clone(),
            };
            let key = keys::job(&record.id);
            let (gpk, gsk) = keys::job_by_owner(&user, &record.created_at, &record.id);
            let mut item = Item::new();
            item.insert(PK.into(), key.pk.into());
            item.insert(SK.into(), key.sk.into());
            item.insert(GSI1_PK.into(), gpk.into());
            item.insert(GSI1_SK.into(), gsk.into());
            item.insert("id".into(), json!(record.id));
            item.insert("kind".into(), json!(record.kind));
            item.insert("userId".into(), json!(record.user_id));
            item.insert("status".into(), json!(record.status));
            item.insert("progress".into(), json!(0));
            item.insert("input".into(), record.input.clone());
            item.insert("createdAt".into(), json!(record.created_at));
            item.insert("updatedAt".into(), json!(record.updated_at));
            if let Some(charge) = job.charge.filter(|c| c.credits > 0) {
                item.insert(CHARGE.into(), json!({"credits": charge.credits, "reason": charge.spending.reason()}));
                charges.push(Charge { reference: record.id.clone(), ..charge });
            }
            ops.push(TxOp::Put { item, cond: Some(Cond::NotExists) });
            records.push(record);
        }
        ops.extend(extra);
        match credits::transact_charged(ctx, &user, &charges, ops, credits::RefKind::Job).await {
            Ok(()) => {}
            Err(ChargeFailure::Store(StoreError::TransactionCanceled { failed })) if !failed.is_empty() => {
                return Err(ApiError::conflict("JOB_EXISTS", "This job, or what it works on, already exists"));
            }
            Err(e) => return Err(e.into()),
        }
        for record in &records {
            ctx.queue.send(&JobMessage::new(&record.kind, &record.id).to_body(), std::time::Duration::ZERO).await?;
        }
        Ok(records)
    }

    pub async fn get(ctx: &AppContext, job_id: &str) -> ApiResult<Option<JobRecord>> {
        let Some(item) = ctx.table.get(&keys::job(job_id)).await? else { return Ok(None) };
        let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let status: JobStatus = serde_json::from_value(item.get("status").cloned().unwrap_or_default())
            .map_err(|_| ApiError::internal("job without a status"))?;
        Ok(Some(JobRecord {
            id: field("id"),
            kind: field("kind"),
            user_id: field("userId"),
            status,
            progress: item.get("progress").and_then(Value::as_u64).unwrap_or(0).min(100) as u8,
            result: item.get("result").cloned(),
            error: item.get("error").and_then(Value::as_str).map(str::to_string),
            input: item.get("input").cloned().unwrap_or(Value::Null),
            created_at: field("createdAt"),
            updated_at: field("updatedAt"),
        }))
    }

    /// Moves a job on, unless it already reached a final state.
    pub async fn update(
        ctx: &AppContext,
        job_id: &str,
        status: JobStatus,
        progress: u8,
        result: Option<Value>,
        error: Option<&str>,
    ) -> ApiResult<()> {
        let mut update = Update::new()
            .set("status", json!(status))
            .set("progress", progress.min(100))
            .set("updatedAt", rfc3339(ctx.clock.now()));
        if let Some(result) = result {
            update = update.set("result", result);
        }
        if let Some(error) = error {
            update = update.set("error", error);
        }
        update_unless_final(ctx, job_id, update).await
    }

    /// Cancels a queued or running job: its worker stops at its next check,
    /// and what it finished before stays. `None` when the job had already
    /// reached a final state (or is gone).
    pub async fn cancel(ctx: &AppContext, job_id: &str) -> ApiResult<Option<()>> {
        let update = Update::new()
            .set("status", json!(JobStatus::Cancelled))
            .set("error", "Cancelled by its owner")
            .set("updatedAt", rfc3339(ctx.clock.now()));
        let active = Cond::And(vec![
            Cond::Exists,
            Cond::Or(vec![
                Cond::Eq("status".into(), json!(JobStatus::Queued)),
                Cond::Eq("status".into(), json!(JobStatus::Running)),
            ]),
        ]);
        match finish_refunding(ctx, job_id, update, active).await {
            Ok(()) => Ok(Some(())),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a job failed with `reason` (its progress stays), unless it already
    /// reached a final state or its record is gone.
    pub async fn fail(ctx: &AppContext, job_id: &str, reason: &str) -> ApiResult<()> {
        let update = Update::new()
            .set("status", json!(JobStatus::Failed))
            .set("error", reason)
            .set("updatedAt", rfc3339(ctx.clock.now()));
        fail_unless_final(ctx, job_id, update).await
    }

    async fn fail_unless_final(ctx: &AppContext, job_id: &str, update: Update) -> ApiResult<()> {
        match finish_refunding(ctx, job_id, update, not_final()).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn not_final() -> Cond {
        Cond::And(vec![
            Cond::Exists,
            Cond::Ne("status".into(), json!(JobStatus::Succeeded)),
            Cond::Ne("status".into(), json!(JobStatus::Failed)),
            Cond::Ne("status".into(), json!(JobStatus::Cancelled)),
        ])
    }

    /// Ends a job with `update` under `cond` and, when it was paid for and
    /// has produced nothing (no `result`), gives its charge back in the same
    /// transaction, conditional on the job not being refunded yet: the
    /// refund happens once, however often a failure is recorded.
    /// `ConditionFailed` when `cond` does not hold.
    async fn finish_refunding(ctx: &AppContext, job_id: &str, update: Update, cond: Cond) -> Result<(), StoreError> {
        let key = keys::job(job_id);
        for _ in 0..5 {
            let Some(item) = ctx.table.get(&key).await? else { return Err(StoreError::ConditionFailed) };
            let credits = item.get(CHARGE).and_then(|c| c.get("credits")).and_then(Value::as_i64).unwrap_or(0);
            let refundable = credits > 0 && !item.contains_key("result") && !item.contains_key(REFUNDED);
            let user = item.get("userId").and_then(Value::as_str).unwrap_or_default().to_string();
            if !refundable || user.is_empty() {
                return ctx.table.update(&key, update, Some(cond)).await.map(|_| ());
            }
            let reason = item.get(CHARGE).and_then(|c| c.get("reason")).and_then(Value::as_str).unwrap_or("job");
            let mut ops = vec![TxOp::Update {
                key: key.clone(),
                update: update.clone().set(REFUNDED, true),
                cond: Some(Cond::And(vec![
                    cond.clone(),
                    Cond::AttrNotExists("result".into()),
                    Cond::AttrNotExists(REFUNDED.into()),
                ])),
            }];
            ops.extend(credits::refund_ops(ctx, &UserId::from_trusted(&user), credits, reason, job_id));
            match ctx.table.transact(ops).await {
                Ok(()) => return Ok(()),
                // The job changed since it was read (finished, refunded): read it again.
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable("the job kept changing while it was being ended".into()))
    }

    async fn update_unless_final(ctx: &AppContext, job_id: &str, update: Update) -> ApiResult<()> {
        let not_final = Cond::And(vec![
            Cond::Exists,
            Cond::Ne("status".into(), json!(JobStatus::Succeeded)),
            Cond::Ne("status".into(), json!(JobStatus::Failed)),
            Cond::Ne("status".into(), json!(JobStatus::Cancelled)),
        ]);
        match ctx.table.update(&keys::job(job_id), update, Some(not_final)).await {
            Ok(_) | Err(crate::ports::StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
