//! The `jobs-worker` Lambda on a real SQS event: finished jobs are left for
//! SQS to delete, the others are reported as batch item failures.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobError, JobKind, JobMessage};

fn ok(_ctx: Arc<AppContext>, _m: JobMessage) -> whatif_shared::jobs::JobFuture {
    Box::pin(async { Ok(()) })
}

fn flaky(_ctx: Arc<AppContext>, _m: JobMessage) -> whatif_shared::jobs::JobFuture {
    Box::pin(async { Err(JobError::Retry("dependency down".into())) })
}

static KINDS: [JobKind; 2] =
    [JobKind { name: "ok", handler: ok, access: &[] }, JobKind { name: "flaky", handler: flaky, access: &[] }];

#[tokio::test]
async fn reports_only_the_jobs_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = AppContext::connect(Config::embedded(dir.path().to_path_buf())).await.unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/jobs-worker.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    let template = event["Records"][0].clone();
    let mut records = Vec::new();
    for (id, kind) in [("m-ok", "ok"), ("m-flaky", "flaky"), ("m-unknown", "no-such-kind"), ("m-garbled", "")] {
        let mut record = template.clone();
        record["messageId"] = id.into();
        record["body"] =
            if kind.is_empty() { "not json".into() } else { JobMessage::new(kind, "01J").to_body().into() };
        records.push(record);
    }
    event["Records"] = records.into();
    let event: SqsEvent = serde_json::from_value(event).unwrap();
    let kinds: Vec<&JobKind> = KINDS.iter().collect();
    let response = whatif_app::lambda::handle_batch(&ctx, &kinds, event).await;
    let mut failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
    failed.sort();
    assert_eq!(failed, ["m-flaky", "m-garbled", "m-unknown"]);
}

#[tokio::test]
async fn the_committed_event_parses_as_sqs() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/jobs-worker.json")).unwrap();
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(event.records.len(), 1);
}
