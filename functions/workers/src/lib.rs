//! The job worker. `JOB_KINDS` joins every service's job kinds (services add
//! theirs here); the `jobs-worker` Lambda runs them from SQS with partial
//! batch failures, and the local server runs them in-process.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{self, JobKind, Lease, Outcome};
use whatif_shared::ports::Delivery;

/// Every job kind of every service.
pub fn job_kinds() -> Vec<&'static JobKind> {
    [whatif_users::JOBS, whatif_generation::JOBS].into_iter().flatten().collect()
}

/// Runs one SQS batch; the messages that should be retried are reported as
/// failures (SQS deletes the others), so one bad job never redoes its batch.
pub async fn handle_batch(ctx: &Arc<AppContext>, kinds: &[&JobKind], event: SqsEvent) -> SqsBatchResponse {
    let runs = event.records.into_iter().map(|record| async move {
        let message_id = record.message_id.unwrap_or_default();
        let delivery = Delivery {
            message_id: message_id.clone(),
            receipt: record.receipt_handle.unwrap_or_default(),
            body: record.body.unwrap_or_default(),
            receive_count: record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1),
        };
        match jobs::process(ctx, kinds, &delivery, Lease::from_config(&ctx.config)).await {
            Outcome::Delete => None,
            Outcome::Retry => Some(message_id),
        }
    });
    let failed = futures::future::join_all(runs).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .flatten()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
