//! The conformance suites against the AWS adapters, on emulators:
//! `WHATIF_TEST_DYNAMODB_URL` (DynamoDB Local) and `WHATIF_TEST_MOTO_URL`
//! (moto: S3, SQS, Secrets Manager, SES). Without them each test prints
//! "skipped", unless `WHATIF_REQUIRE_EMULATORS=1`, which makes it fail.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use whatif_shared::adapters::aws::sdk::{aws_sdk_dynamodb, aws_sdk_secretsmanager, aws_sdk_sesv2, aws_sdk_sqs};
use whatif_shared::adapters::aws::{
    AwsSecrets, DynamoTable, S3Blobs, SesMailer, SqsQueue, create_bucket_if_missing, create_queues_if_missing,
    create_table_if_missing, emulator_config, s3_client,
};
use whatif_shared::clock::{Clock, FixedClock, SystemClock};
use whatif_shared::conformance;
use whatif_shared::ports::secrets::CachedSecrets;
use whatif_shared::ports::{BlobStore, JobQueue};
use whatif_tests::emulator_endpoint;

const TABLE: &str = "whatif-conformance";
const BUCKET: &str = "whatif-conformance";
/// The queue suite's redrive threshold.
const MAX_RECEIVES: u32 = 2;

/// A name no earlier run used (queues cannot be shared between runs of the suite).
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn item_table_on_dynamodb_local() {
    let Some(url) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let client = aws_sdk_dynamodb::Client::new(&emulator_config(&url));
    create_table_if_missing(&client, TABLE).await.expect("create the conformance table");
    // Near the real time: DynamoDB's own TTL sweeper, where there is one, uses it.
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let table = Arc::new(DynamoTable::new(client, TABLE.to_string(), clock.clone()));
    conformance::item_table(table, clock).await;
}

#[tokio::test]
async fn blob_store_on_moto_s3() {
    let Some(url) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let client = s3_client(&emulator_config(&url), true);
    create_bucket_if_missing(&client, BUCKET).await.expect("create the conformance bucket");
    // S3 checks signatures against its own clock: presign with the real time.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let blobs = Arc::new(S3Blobs::new(client, BUCKET.to_string(), clock.clone()));
    let http = reqwest::Client::new();
    // moto serves presigned URLs without checking their signature, so it takes
    // any Content-Length too (real S3 refuses both); no presigned PUT limits a
    // size on S3.
    let enforces = conformance::Enforces { signatures: false, max_bytes: false };
    conformance::blob_store(blobs.clone(), clock, enforces, |presigned, body| {
        let http = http.clone();
        async move {
            let method = reqwest::Method::from_bytes(presigned.method.as_bytes()).expect("an HTTP method");
            let mut request = http.request(method, &presigned.url);
            for (name, value) in &presigned.headers {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request.send().await.expect("the presigned request reaches moto");
            let status = response.status().as_u16();
            (status, response.bytes().await.expect("read the response body"))
        }
    })
    .await;

    // S3-specific: the download name reaches the browser as an attachment.
    let key = format!("conformance/{}/named.txt", unique("s3"));
    blobs.put(&key, "x".into(), "text/plain").await.expect("put");
    let presigned = blobs.presign_get(&key, Duration::from_secs(60), Some("Báo cáo.txt")).await.expect("presign");
    let response = http.get(&presigned.url).send().await.expect("GET the presigned URL");
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(
        disposition, "attachment; filename=\"B_o c_o.txt\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o.txt",
        "a presigned GET with a download name serves an attachment of that name"
    );
}

#[tokio::test]
async fn secret_store_on_moto_secrets_manager() {
    let Some(url) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let client = aws_sdk_secretsmanager::Client::new(&emulator_config(&url));
    // As the context holds it: what was read kept for a while, a put refreshing it.
    let secrets = AwsSecrets::new(client, "whatif-conformance/".to_string());
    let cached = CachedSecrets::new(Arc::new(secrets), Duration::from_secs(60), Arc::new(SystemClock));
    conformance::secret_store(Arc::new(cached)).await;
}

#[tokio::test]
async fn job_queue_on_moto_sqs() {
    let Some(url) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let client = aws_sdk_sqs::Client::new(&emulator_config(&url));
    let name = unique("whatif-conformance");
    let (queue_url, dlq_url) = create_queues_if_missing(&client, &name, MAX_RECEIVES).await.expect("create the queues");
    let again = create_queues_if_missing(&client, &name, MAX_RECEIVES).await.expect("create the queues again");
    assert_eq!(again, (queue_url.clone(), dlq_url.clone()), "create_queues_if_missing is idempotent");

    let without_dlq = SqsQueue::new(client.clone(), queue_url.clone(), None);
    assert!(without_dlq.dead_letters(10).await.expect("dead_letters").is_empty(), "no DLQ, no dead letters");
    conformance::job_queue(Arc::new(SqsQueue::new(client, queue_url, Some(dlq_url))), MAX_RECEIVES).await;
}

#[tokio::test]
async fn mailer_on_moto_ses() {
    let Some(url) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let client = aws_sdk_sesv2::Client::new(&emulator_config(&url));
    let from = "noreply@whatif.example";
    // moto, like the SES sandbox, refuses unverified senders.
    if let Err(err) = client.create_email_identity().email_identity(from).send().await {
        let code = aws_sdk_sesv2::error::ProvideErrorMetadata::code(&err).unwrap_or_default().to_string();
        assert_eq!(code, "AlreadyExistsException", "verify the sender identity");
    }
    conformance::mailer(Arc::new(SesMailer::new(client, from.to_string())), "reader@example.com").await;
}
