#![cfg(test)]
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::adapters::local::*;
use crate::clock::{Clock, FixedClock, SystemClock, UlidGen};
use crate::ports::BlobStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("db.redb")).unwrap();
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    super::item_table(Arc::new(LocalTable::new(store, clock.clone())), clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("db.redb")).unwrap();
    let q = LocalQueue::new(store, Arc::new(SystemClock), Arc::new(UlidGen::default()), 2);
    super::job_queue(Arc::new(q), 2).await;
}

#[tokio::test]
async fn local_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileSecrets::new(dir.path().to_path_buf(), &HashMap::new()).unwrap();
    super::secret_store(Arc::new(s)).await;
}

#[tokio::test]
async fn local_mailer() {
    let dir = tempfile::tempdir().unwrap();
    let m = OutboxMailer::new(
        dir.path().to_path_buf(),
        "a@b.c".into(),
        Arc::new(SystemClock),
        Arc::new(UlidGen::default()),
    )
    .unwrap();
    super::mailer(Arc::new(m), "x@y.z").await;
}

#[tokio::test]
async fn local_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let blobs = Arc::new(LocalBlobs::new(dir.path(), "http://localhost:1", b"k".to_vec(), clock.clone()).unwrap());
    let b2 = blobs.clone();
    super::blob_store(blobs, clock, true, move |p, body: Option<Bytes>| {
        let b = b2.clone();
        async move {
            let url = url::Url::parse(&p.url).unwrap();
            let key = url.path().trim_start_matches("/_blobs/").to_string();
            let Ok(req) = b.verify(&p.method, &key, url.query().unwrap_or("")) else { return (403, Bytes::new()) };
            if p.method == "GET" {
                let (body, _) = b.get(&req.key).await.unwrap().unwrap();
                (200, body)
            } else {
                let ct = p
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                if Some(ct.clone()) != req.content_type {
                    return (403, Bytes::new());
                }
                b.put(&req.key, body.unwrap_or_default(), &ct).await.unwrap();
                (200, Bytes::new())
            }
        }
    })
    .await;
}
