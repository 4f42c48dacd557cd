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
    /// Will never succeed (the job recorded why): the message is removed.
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
        Self { visibility: Duration::from_secs(60), heartbeat: Duration::from_secs(20) }
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
    let _entered = span.enter();
    let Some(kind) = kinds.iter().find(|k| k.name == message.kind) else {
        tracing::error!("no worker for this job kind");
        return Outcome::Retry;
    };
    let started = std::time::Instant::now();
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
            Outcome::Delete
        }
        Err(JobError::Retry(reason)) => {
            tracing::warn!(duration_ms = ms, %reason, "job will be retried");
            Outcome::Retry
        }
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
