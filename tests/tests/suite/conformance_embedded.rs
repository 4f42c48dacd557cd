//! The conformance suites against the embedded adapters (always run).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use whatif_shared::adapters::local::{FileSecrets, LocalQueue, LocalStore, LocalTable, OutboxMailer};
use whatif_shared::clock::{Clock, FixedClock, SystemClock, UlidGen};
use whatif_shared::conformance;
use whatif_shared::ports::Presigned;
use whatif_tests::TestServer;

const MAX_RECEIVES: u32 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn item_table_on_redb() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("t.redb")).unwrap();
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    conformance::item_table(Arc::new(LocalTable::new(store, clock.clone())), clock).await;
}

#[tokio::test]
async fn blob_store_on_a_folder_served_by_the_local_server() {
    let server = TestServer::start().await;
    let http = server.http.clone();
    let enforces = conformance::Enforces { signatures: true, max_bytes: true };
    conformance::blob_store(server.ctx.blobs.clone(), server.ctx.clock.clone(), enforces, |p: Presigned, body| {
        let http = http.clone();
        async move {
            let method = reqwest::Method::from_bytes(p.method.as_bytes()).unwrap();
            let mut request = http.request(method, &p.url);
            for (name, value) in &p.headers {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap_or_else(|_| Bytes::new()))
        }
    })
    .await;
}

#[tokio::test]
async fn secret_store_on_files() {
    let dir = tempfile::tempdir().unwrap();
    conformance::secret_store(Arc::new(FileSecrets::new(dir.path().to_path_buf(), &HashMap::new()).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_queue_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("q.redb")).unwrap();
    let queue = LocalQueue::new(store, Arc::new(SystemClock), Arc::new(UlidGen::default()), MAX_RECEIVES);
    conformance::job_queue(Arc::new(queue), MAX_RECEIVES).await;
}

#[tokio::test]
async fn mailer_writes_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let mailer = OutboxMailer::new(
        outbox.clone(),
        "noreply@whatif.local".into(),
        Arc::new(SystemClock),
        Arc::new(UlidGen::default()),
    )
    .unwrap();
    conformance::mailer(Arc::new(mailer), "reader@example.com").await;
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().collect();
    assert!(!files.is_empty(), "one .eml per message in the outbox");
    let first = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(first.contains("To: reader@example.com"));
}
