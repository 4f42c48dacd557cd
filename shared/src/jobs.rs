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
    use crate::credits::{self, Charge, ChargeFailure, Spending};
    use crate::error::{ApiError, ApiResult};
    use crate::ids::UserId;
    use crate::keys;
    use crate::ports::StoreError;
    use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK, TxOp, Update};
    use crate::stats;

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
            let (spk, ssk) = keys::job_by_status(status_name(record.status), &record.created_at, &record.id);
            item.insert(GSI2_PK.into(), spk.into());
            item.insert(GSI2_SK.into(), ssk.into());
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
        let queued = stats::counter(stats::JOBS_STATUS, status_name(JobStatus::Queued));
        stats::append(ctx, &mut ops, &[(&queued, records.len() as i64)]);
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
        record_of(&item).map(Some)
    }

    /// A job's record from its item.
    pub fn record_of(item: &Item) -> ApiResult<JobRecord> {
        let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let status: JobStatus = serde_json::from_value(item.get("status").cloned().unwrap_or_default())
            .map_err(|_| ApiError::internal("job without a status"))?;
        Ok(JobRecord {
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
        })
    }

    /// A status's name as stored (`queued`, `failed`, ...).
    pub fn status_name(status: JobStatus) -> &'static str {
        match status {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    fn status_of(item: &Item) -> Option<JobStatus> {
        serde_json::from_value(item.get("status")?.clone()).ok()
    }

    /// The status `status` with the job's place in the admin's list
    /// (`gsi2pk`), which moves with it.
    fn set_status(update: Update, status: JobStatus) -> Update {
        update.set("status", json!(status)).set(GSI2_PK, keys::jobs_in_status(status_name(status)))
    }

    /// The count of a job moving from `from` to `to`, for its transaction.
    fn moved(ctx: &AppContext, from: JobStatus, to: JobStatus) -> Option<TxOp> {
        stats::move_op(ctx, stats::JOBS_STATUS, status_name(from), status_name(to))
    }

    /// Moves a job on, unless it already reached a final state. A change of
    /// status moves the job's count in the same transaction, conditional on
    /// the status it changed from (so a count moves once).
    pub async fn update(
        ctx: &AppContext,
        job_id: &str,
        status: JobStatus,
        progress: u8,
        result: Option<Value>,
        error: Option<&str>,
    ) -> ApiResult<()> {
        let mut update = set_status(Update::new(), status)
            .set("progress", progress.min(100))
            .set("updatedAt", rfc3339(ctx.clock.now()));
        if let Some(result) = result {
            update = update.set("result", result);
        }
        if let Some(error) = error {
            update = update.set("error", error);
        }
        let key = keys::job(job_id);
        // The common case first: progress in the status the job is already in.
        if !status.is_final() {
            match ctx.table.update(&key, update.clone(), Some(Cond::eq("status", status_name(status)))).await {
                Ok(_) => return Ok(()),
                Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for _ in 0..5 {
            let Some(item) = ctx.table.get(&key).await? else { return Ok(()) };
            let Some(from) = status_of(&item) else { return Ok(()) };
            if from.is_final() {
                return Ok(());
            }
            let mut ops = vec![TxOp::Update {
                key: key.clone(),
                update: update.clone(),
                cond: Some(Cond::eq("status", status_name(from))),
            }];
            ops.extend(moved(ctx, from, status));
            match ctx.table.transact(ops).await {
                Ok(()) => return Ok(()),
                // The job changed since it was read: read it again.
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::unavailable("The job kept changing; try again"))
    }

    /// Cancels a queued or running job: its worker stops at its next check,
    /// and what it finished before stays. `None` when the job had already
    /// reached a final state (or is gone).
    pub async fn cancel(ctx: &AppContext, job_id: &str) -> ApiResult<Option<()>> {
        cancel_with(ctx, job_id, "Cancelled by its owner", &|_| Ok(Vec::new())).await
    }

    /// [`cancel`] with the job's `error` text and the operations `extra`
    /// makes from the job as it was (an audit entry), in its transaction.
    pub async fn cancel_with(ctx: &AppContext, job_id: &str, error: &str, extra: &Extra<'_>) -> ApiResult<Option<()>> {
        let update = Update::new().set("error", error).set("updatedAt", rfc3339(ctx.clock.now()));
        let ended = finish_refunding(ctx, job_id, JobStatus::Cancelled, update, extra).await?;
        Ok(ended.then_some(()))
    }

    /// Marks a job failed with `reason` (its progress stays), unless it already
    /// reached a final state or its record is gone.
    pub async fn fail(ctx: &AppContext, job_id: &str, reason: &str) -> ApiResult<()> {
        let update = Update::new().set("error", reason).set("updatedAt", rfc3339(ctx.clock.now()));
        finish_refunding(ctx, job_id, JobStatus::Failed, update, &|_| Ok(Vec::new())).await.map(|_| ())
    }

    /// What an admin action adds to the transaction that changes a job,
    /// made from the job as it was (its audit entry).
    pub type Extra<'a> = dyn Fn(&JobRecord) -> ApiResult<Vec<TxOp>> + Send + Sync + 'a;

    /// Ends a queued or running job with `to` and `update` and, when it was
    /// paid for and has produced nothing (no `result`), gives its charge back
    /// in the same transaction, conditional on the job not being refunded
    /// yet: the refund happens once, however often a failure is recorded.
    /// The job's count moves in the same transaction. `false` when the job
    /// is gone or had already ended.
    async fn finish_refunding(
        ctx: &AppContext,
        job_id: &str,
        to: JobStatus,
        update: Update,
        extra: &Extra<'_>,
    ) -> ApiResult<bool> {
        let key = keys::job(job_id);
        let update = set_status(update, to);
        for _ in 0..5 {
            let Some(item) = ctx.table.get(&key).await? else { return Ok(false) };
            let Some(from) = status_of(&item) else { return Ok(false) };
            if from.is_final() {
                return Ok(false);
            }
            let credits = item.get(CHARGE).and_then(|c| c.get("credits")).and_then(Value::as_i64).unwrap_or(0);
            let refundable = credits > 0 && !item.contains_key("result") && !item.contains_key(REFUNDED);
            let user = item.get("userId").and_then(Value::as_str).unwrap_or_default().to_string();
            let same = Cond::eq("status", status_name(from));
            let mut ops = if !refundable || user.is_empty() {
                vec![TxOp::Update { key: key.clone(), update: update.clone(), cond: Some(same) }]
            } else {
                let reason = item.get(CHARGE).and_then(|c| c.get("reason")).and_then(Value::as_str).unwrap_or("job");
                let mut ops = vec![TxOp::Update {
                    key: key.clone(),
                    update: update.clone().set(REFUNDED, true),
                    cond: Some(Cond::And(vec![
                        same,
                        Cond::AttrNotExists("result".into()),
                        Cond::AttrNotExists(REFUNDED.into()),
                    ])),
                }];
                ops.extend(credits::refund_ops(ctx, &UserId::from_trusted(&user), credits, reason, job_id));
                ops
            };
            ops.extend(moved(ctx, from, to));
            ops.extend(extra(&record_of(&item)?)?);
            match ctx.table.transact(ops).await {
                Ok(()) => return Ok(true),
                // The job changed since it was read (finished, refunded): read it again.
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::unavailable("The job kept changing while it was being ended; try again"))
    }

    /// Removes a job's record (its account's deletion) and takes it out of
    /// its status's count in the same transaction. Nothing when it is gone.
    pub async fn remove(ctx: &AppContext, job_id: &str) -> ApiResult<()> {
        let key = keys::job(job_id);
        for _ in 0..5 {
            let Some(item) = ctx.table.get(&key).await? else { return Ok(()) };
            let Some(status) = status_of(&item) else {
                ctx.table.delete(&key, None).await?;
                return Ok(());
            };
            let ops = vec![
                TxOp::Delete { key: key.clone(), cond: Some(Cond::eq("status", status_name(status))) },
                stats::add_op(ctx, &[(&stats::counter(stats::JOBS_STATUS, status_name(status)), -1)]),
            ];
            match ctx.table.transact(ops).await {
                Ok(()) => return Ok(()),
                // It moved on (or went) since it was read: read it again.
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::unavailable("The job kept changing while it was being removed; try again"))
    }

    /// What [`retry`] did.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Retried {
        /// Queued again; `charged` credits were debited again (its charge
        /// had been refunded when it failed).
        Queued { job: Box<JobRecord>, charged: i64 },
        /// The job is not failed (its status).
        NotFailed(JobStatus),
    }

    /// Runs a failed job again from the start: queued, progress 0, no error,
    /// no result; its message sent to the queue again. A paid job whose
    /// charge was refunded when it failed is charged again in the same
    /// transaction (402 when its owner cannot pay), and its `refunded`
    /// marker cleared with it, so it is charged once in total and a new
    /// failure refunds once more. `extra` (made from the job as it was)
    /// joins the transaction. 404 when there is no such job.
    pub async fn retry(ctx: &AppContext, job_id: &str, extra: &Extra<'_>) -> ApiResult<Retried> {
        let key = keys::job(job_id);
        for _ in 0..5 {
            let Some(item) = ctx.table.get(&key).await? else { return Err(ApiError::not_found("Job")) };
            let job = record_of(&item)?;
            let Some(status) = status_of(&item) else { return Err(ApiError::not_found("Job")) };
            if status != JobStatus::Failed {
                return Ok(Retried::NotFailed(status));
            }
            let refunded = item.contains_key(REFUNDED);
            let credits = item.get(CHARGE).and_then(|c| c.get("credits")).and_then(Value::as_i64).unwrap_or(0);
            let reason = item.get(CHARGE).and_then(|c| c.get("reason")).and_then(Value::as_str).unwrap_or_default();
            let update = set_status(Update::new(), JobStatus::Queued)
                .set("progress", 0)
                .set("updatedAt", rfc3339(ctx.clock.now()))
                .add("retries", 1)
                .remove("error")
                .remove("result")
                .remove(REFUNDED);
            let marker =
                if refunded { Cond::AttrExists(REFUNDED.into()) } else { Cond::AttrNotExists(REFUNDED.into()) };
            let mut ops = vec![TxOp::Update {
                key: key.clone(),
                update,
                cond: Some(Cond::And(vec![Cond::eq("status", status_name(JobStatus::Failed)), marker])),
            }];
            ops.extend(moved(ctx, JobStatus::Failed, JobStatus::Queued));
            ops.extend(extra(&job)?);
            let charges = match (refunded && credits > 0, Spending::from_reason(reason)) {
                (false, _) => Vec::new(),
                (true, Some(spending)) => vec![Charge { spending, credits, reference: job_id.to_string() }],
                (true, None) => return Err(ApiError::internal("a paid job's charge names no known spending")),
            };
            let owner = UserId::from_trusted(&job.user_id);
            match credits::transact_charged(ctx, &owner, &charges, ops, credits::RefKind::Job).await {
                Ok(()) => {}
                // The job changed since it was read: read it again.
                Err(ChargeFailure::Store(StoreError::TransactionCanceled { .. })) => continue,
                Err(ChargeFailure::OutOfCredits(_)) => {
                    return Err(ApiError::payment_required(format!(
                        "The job's owner cannot pay for it again: it costs {credits} credits"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            let charged = if charges.is_empty() { 0 } else { credits };
            let message = JobMessage::new(&job.kind, &job.id).to_body();
            if let Err(e) = ctx.queue.send(&message, std::time::Duration::ZERO).await {
                // Nothing will run it: fail it again (refunding what was just
                // charged), so it can be retried once the queue answers.
                tracing::error!(error = %e, job_id, "a retried job could not be queued");
                fail(ctx, job_id, "The job could not be queued again").await?;
                return Err(ApiError::unavailable("The job queue is unavailable; try again"));
            }
            let job = get(ctx, job_id).await?.ok_or_else(|| ApiError::not_found("Job"))?;
            return Ok(Retried::Queued { job: Box::new(job), charged });
        }
        Err(ApiError::unavailable("The job kept changing while it was being retried; try again"))
    }
}
