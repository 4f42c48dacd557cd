//! Access that runs: the ports of one function, checked against its row's
//! `access` ([`Access`]) the way its IAM policy (`crate::iam`) would be in
//! AWS. A handler that touches something its row does not grant fails with
//! [`StoreError::AccessDenied`] locally and in every test, not first in AWS.
//!
//! The rules mirror `crate::iam::statements`:
//!
//! | port | call | needs |
//! |---|---|---|
//! | table | `get`, `batch_get` | nothing (every function reads items by key: `PipelineRead`) |
//! | table | `query` | `TableRead` |
//! | table | `put`, `update`, `delete` | `TableWrite`, or a partition key starting `RL#`/`IDEM#` (`PipelineLimits`) |
//! | table | `transact` | every operation allowed as above; a condition check needs `TableWrite` |
//! | blobs | `get`, `head`, `presign_get`, `list` | `BlobRead(p)` with the key (listed prefix) under `p` |
//! | blobs | `put`, `delete`, `presign_put`, `presign_put_limited` | `BlobWrite(p)` with the key under `p` |
//! | blobs | `delete_all` | `BlobRead(p)` (it lists) and `BlobWrite(p)` over the prefix |
//! | secrets | `get` / `put` | `SecretRead(name)` / `SecretWrite(name)`, the exact name |
//! | queue | `send` | `QueueSend` |
//! | queue | `receive`, `delete`, `extend`, `dead_letters` | `QueueConsume` |
//! | mailer | `send` | `SendEmail` |
//! | speech | `voices`, `synthesize` | `Speech` |
//! | table, blobs, queue | `check` | `HealthChecks` |
//!
//! The wrappers are made by `AppContext::for_function`; the checks are a
//! scan of a handful of rows, always on.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::iam::PIPELINE_KEY_PREFIXES;
use crate::ports::table::PK;
use crate::ports::{
    BlobMeta, BlobStore, Delivery, Email, Item, ItemTable, JobQueue, Key, Mailer, Pcm, Presigned, PutLimits, Query,
    QueryPage, SecretStore, SpeechError, SpeechRequest, SpeechSynthesizer, StoreError, StoreResult, TxOp, Update,
    Voice,
};
use crate::routes::Access;

/// Who is asking and what its row grants.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    pub function: &'static str,
    pub access: &'static [Access],
}

impl Grant {
    pub fn new(function: &'static str, access: &'static [Access]) -> Self {
        Self { function, access }
    }

    fn has(&self, access: Access) -> bool {
        self.access.contains(&access)
    }

    /// Ok when the row grants `access`, else the denial naming `call` and `target`.
    fn need(&self, access: Access, call: &str, target: &str) -> StoreResult<()> {
        if self.has(access) { Ok(()) } else { Err(self.denied(&format!("{access:?}"), call, target)) }
    }

    fn denied(&self, grant: &str, call: &str, target: &str) -> StoreError {
        StoreError::AccessDenied(format!(
            "function `{}` is not granted {grant} for {call} on {target} (add it to the row's access)",
            self.function
        ))
    }

    // ---- table ----

    /// A put, update or delete of the item with partition key `pk`.
    fn may_write(&self, pk: &str) -> bool {
        self.has(Access::TableWrite) || PIPELINE_KEY_PREFIXES.iter().any(|p| pk.starts_with(p))
    }

    fn write(&self, pk: &str, call: &str, target: &str) -> StoreResult<()> {
        if self.may_write(pk) { Ok(()) } else { Err(self.denied("TableWrite", call, target)) }
    }

    fn tx_op(&self, op: &TxOp) -> StoreResult<()> {
        match op {
            TxOp::Put { item, .. } => {
                let pk = item.get(PK).and_then(|v| v.as_str()).unwrap_or_default();
                self.write(pk, "TransactWriteItems (Put)", &item_target(item))
            }
            TxOp::Update { key, .. } => self.write(&key.pk, "TransactWriteItems (Update)", &key_target(key)),
            TxOp::Delete { key, .. } => self.write(&key.pk, "TransactWriteItems (Delete)", &key_target(key)),
            // ConditionCheckItem is only in the TableWrite statement.
            TxOp::Check { key, .. } => {
                self.need(Access::TableWrite, "TransactWriteItems (ConditionCheck)", &key_target(key))
            }
        }
    }

    // ---- blobs ----

    fn blob(&self, write: bool, key: &str, call: &str) -> StoreResult<()> {
        let granted = self.access.iter().any(|a| match (write, a) {
            (false, Access::BlobRead(prefix)) | (true, Access::BlobWrite(prefix)) => key.starts_with(prefix),
            _ => false,
        });
        if granted {
            Ok(())
        } else {
            let grant = if write { "BlobWrite" } else { "BlobRead" };
            Err(self.denied(&format!("{grant} over a prefix of"), call, key))
        }
    }

    // ---- secrets ----

    fn secret(&self, write: bool, name: &str, call: &str) -> StoreResult<()> {
        let granted = self.access.iter().any(|a| match (write, a) {
            (false, Access::SecretRead(n)) | (true, Access::SecretWrite(n)) => *n == name,
            _ => false,
        });
        if granted {
            Ok(())
        } else {
            let grant = if write { "SecretWrite" } else { "SecretRead" };
            Err(self.denied(&format!("{grant}({name:?})"), call, &format!("the secret {name}")))
        }
    }
}

fn key_target(key: &Key) -> String {
    format!("{} / {}", key.pk, key.sk)
}

fn item_target(item: &Item) -> String {
    match Key::of(item) {
        Some(key) => key_target(&key),
        None => "an item without a key".into(),
    }
}

/// A port as one function may use it: every call is checked against its
/// grant before it reaches `inner`.
pub struct Checked<P: ?Sized> {
    inner: Arc<P>,
    grant: Grant,
}

impl<P: ?Sized> Checked<P> {
    pub fn new(inner: Arc<P>, grant: Grant) -> Self {
        Self { inner, grant }
    }
}

/// The table, checked.
pub type CheckedTable = Checked<dyn ItemTable>;

#[async_trait]
impl ItemTable for CheckedTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, cond: Option<crate::ports::Cond>) -> StoreResult<()> {
        let pk = item.get(PK).and_then(|v| v.as_str()).unwrap_or_default();
        self.grant.write(pk, "PutItem", &item_target(&item))?;
        self.inner.put(item, cond).await
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<crate::ports::Cond>) -> StoreResult<Item> {
        self.grant.write(&key.pk, "UpdateItem", &key_target(key))?;
        self.inner.update(key, update, cond).await
    }

    async fn delete(&self, key: &Key, cond: Option<crate::ports::Cond>) -> StoreResult<Option<Item>> {
        self.grant.write(&key.pk, "DeleteItem", &key_target(key))?;
        self.inner.delete(key, cond).await
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        let index = query.index.name().map(|n| format!(" ({n})")).unwrap_or_default();
        self.grant.need(Access::TableRead, "Query", &format!("{}{index}", query.pk))?;
        self.inner.query(query).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        for op in &ops {
            self.grant.tx_op(op)?;
        }
        self.inner.transact(ops).await
    }

    async fn check(&self) -> StoreResult<()> {
        self.grant.need(Access::HealthChecks, "DescribeTable", "the table")?;
        self.inner.check().await
    }
}

/// The blob store, checked.
pub type CheckedBlobs = Checked<dyn BlobStore>;

#[async_trait]
impl BlobStore for CheckedBlobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> StoreResult<()> {
        self.grant.blob(true, key, "PutObject")?;
        self.inner.put(key, body, content_type).await
    }

    async fn get(&self, key: &str) -> StoreResult<Option<(Bytes, BlobMeta)>> {
        self.grant.blob(false, key, "GetObject")?;
        self.inner.get(key).await
    }

    async fn head(&self, key: &str) -> StoreResult<Option<BlobMeta>> {
        self.grant.blob(false, key, "HeadObject")?;
        self.inner.head(key).await
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.grant.blob(true, key, "DeleteObject")?;
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        self.grant.blob(false, prefix, "ListObjectsV2")?;
        self.inner.list(prefix).await
    }

    async fn delete_all(&self, prefix: &str) -> StoreResult<()> {
        self.grant.blob(false, prefix, "ListObjectsV2")?;
        self.grant.blob(true, prefix, "DeleteObject")?;
        self.inner.delete_all(prefix).await
    }

    async fn presign_get(&self, key: &str, ttl: Duration, download_name: Option<&str>) -> StoreResult<Presigned> {
        self.grant.blob(false, key, "a presigned GetObject")?;
        self.inner.presign_get(key, ttl, download_name).await
    }

    async fn presign_put_limited(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        limits: PutLimits,
    ) -> StoreResult<Presigned> {
        self.grant.blob(true, key, "a presigned PutObject")?;
        self.inner.presign_put_limited(key, content_type, ttl, limits).await
    }

    async fn check(&self) -> StoreResult<()> {
        self.grant.need(Access::HealthChecks, "HeadBucket", "the bucket")?;
        self.inner.check().await
    }
}

/// The secret store, checked.
pub type CheckedSecrets = Checked<dyn SecretStore>;

#[async_trait]
impl SecretStore for CheckedSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        self.grant.secret(false, name, "GetSecretValue")?;
        self.inner.get(name).await
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        self.grant.secret(true, name, "PutSecretValue")?;
        self.inner.put(name, value).await
    }
}

/// The job queue, checked.
pub type CheckedQueue = Checked<dyn JobQueue>;

#[async_trait]
impl JobQueue for CheckedQueue {
    async fn send(&self, body: &str, delay: Duration) -> StoreResult<String> {
        self.grant.need(Access::QueueSend, "SendMessage", "the job queue")?;
        self.inner.send(body, delay).await
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Delivery>> {
        self.grant.need(Access::QueueConsume, "ReceiveMessage", "the job queue")?;
        self.inner.receive(max, visibility, wait).await
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.grant.need(Access::QueueConsume, "DeleteMessage", "the job queue")?;
        self.inner.delete(receipt).await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        self.grant.need(Access::QueueConsume, "ChangeMessageVisibility", "the job queue")?;
        self.inner.extend(receipt, visibility).await
    }

    async fn dead_letters(&self, max: u32) -> StoreResult<Vec<Delivery>> {
        self.grant.need(Access::QueueConsume, "ReceiveMessage", "the dead-letter queue")?;
        self.inner.dead_letters(max).await
    }

    async fn check(&self) -> StoreResult<()> {
        self.grant.need(Access::HealthChecks, "GetQueueAttributes", "the job queue")?;
        self.inner.check().await
    }
}

/// The mailer, checked.
pub type CheckedMailer = Checked<dyn Mailer>;

#[async_trait]
impl Mailer for CheckedMailer {
    async fn send(&self, email: &Email) -> StoreResult<String> {
        self.grant.need(Access::SendEmail, "SendEmail", "the sender address")?;
        self.inner.send(email).await
    }
}

/// The speech synthesizer, checked.
pub type CheckedSpeech = Checked<dyn SpeechSynthesizer>;

#[async_trait]
impl SpeechSynthesizer for CheckedSpeech {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn max_request_bytes(&self) -> usize {
        self.inner.max_request_bytes()
    }

    fn parallelism(&self) -> usize {
        self.inner.parallelism()
    }

    async fn voices(&self, language_code: Option<&str>) -> Result<Vec<Voice>, SpeechError> {
        if !self.grant.has(Access::Speech) {
            return Err(SpeechError::Unavailable(
                self.grant.denied("Speech", "DescribeVoices", "the voices").to_string(),
            ));
        }
        self.inner.voices(language_code).await
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Pcm, SpeechError> {
        if !self.grant.has(Access::Speech) {
            return Err(SpeechError::Unavailable(
                self.grant.denied("Speech", "SynthesizeSpeech", "the speech provider").to_string(),
            ));
        }
        self.inner.synthesize(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::adapters::local::{FileSecrets, LocalBlobs, LocalQueue, LocalStore, LocalTable, OutboxMailer};
    use crate::clock::{Clock, FixedClock, IdGen, SequentialIds};
    use crate::ports::Cond;

    /// The embedded adapters on a temp folder.
    struct Adapters {
        _dir: tempfile::TempDir,
        table: Arc<dyn ItemTable>,
        blobs: Arc<dyn BlobStore>,
        secrets: Arc<dyn SecretStore>,
        queue: Arc<dyn JobQueue>,
        mailer: Arc<dyn Mailer>,
    }

    fn adapters() -> Adapters {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(time::macros::datetime!(2026-01-02 03:04:05 UTC)));
        let ids: Arc<dyn IdGen> = Arc::new(SequentialIds::default());
        let store = LocalStore::open(&dir.path().join("t.redb")).expect("store");
        Adapters {
            table: Arc::new(LocalTable::new(store.clone(), clock.clone())),
            blobs: Arc::new(
                LocalBlobs::new(&dir.path().join("blobs"), "http://localhost", b"k".to_vec(), clock.clone())
                    .expect("blobs"),
            ),
            secrets: Arc::new(FileSecrets::new(dir.path().join("secrets"), &HashMap::new()).expect("secrets")),
            queue: Arc::new(LocalQueue::new(store, clock.clone(), ids.clone(), 5)),
            mailer: Arc::new(
                OutboxMailer::new(dir.path().join("outbox"), "noreply@x.test".into(), clock, ids).expect("mailer"),
            ),
            _dir: dir,
        }
    }

    fn table(a: &Adapters, access: &'static [Access]) -> CheckedTable {
        CheckedTable::new(a.table.clone(), Grant::new("test-fn", access))
    }

    fn item(pk: &str) -> Item {
        json!({"pk": pk, "sk": "S", "n": 1}).as_object().cloned().expect("object")
    }

    #[track_caller]
    fn assert_denied<T: std::fmt::Debug>(result: StoreResult<T>, mentions: &str) {
        match result {
            Err(StoreError::AccessDenied(text)) => {
                assert!(text.contains("test-fn") && text.contains(mentions), "{text:?} should mention {mentions:?}");
                assert!(text.contains("add it to the row's access"), "{text:?}");
            }
            other => panic!("expected AccessDenied, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_table_write_without_table_write_is_denied() {
        let a = adapters();
        let t = table(&a, &[Access::TableRead]);
        assert_denied(t.put(item("USER#1"), None).await, "TableWrite for PutItem on USER#1");
        assert_denied(t.update(&Key::new("USER#1", "S"), Update::new().add("n", 1), None).await, "UpdateItem");
        assert_denied(t.delete(&Key::new("USER#1", "S"), None).await, "DeleteItem");
        assert_eq!(a.table.get(&Key::new("USER#1", "S")).await, Ok(None), "nothing was written");

        let w = table(&a, &[Access::TableWrite]);
        w.put(item("USER#1"), None).await.expect("granted put");
        w.update(&Key::new("USER#1", "S"), Update::new().add("n", 1), None).await.expect("granted update");
        w.delete(&Key::new("USER#1", "S"), None).await.expect("granted delete");
    }

    #[tokio::test]
    async fn rate_limit_and_idempotency_writes_need_no_table_write() {
        let a = adapters();
        let t = table(&a, &[]);
        t.update(&Key::new("RL#auth#1.2.3.4", "0001"), Update::new().add("count", 1), None).await.expect("RL# update");
        t.put(item("IDEM#u#route#k"), Some(Cond::NotExists)).await.expect("IDEM# put");
        t.delete(&Key::new("IDEM#u#route#k", "S"), None).await.expect("IDEM# delete");
        // The prefix must lead the key, as in the IAM condition `RL#*`.
        assert_denied(t.put(item("USER#RL#1"), None).await, "TableWrite");
    }

    #[tokio::test]
    async fn reads_by_key_are_always_allowed_but_queries_need_table_read() {
        let a = adapters();
        a.table.put(item("USER#1"), None).await.expect("seed");
        let t = table(&a, &[]);
        assert!(t.get(&Key::new("USER#1", "S")).await.expect("get").is_some());
        assert_eq!(t.batch_get(&[Key::new("USER#1", "S")]).await.expect("batch").len(), 1);
        assert_denied(t.query(&Query::partition(crate::ports::Index::Primary, "USER#1")).await, "TableRead for Query");

        let r = table(&a, &[Access::TableRead]);
        assert_eq!(r.batch_get(&[Key::new("USER#1", "S")]).await.expect("batch").len(), 1);
        assert_eq!(r.query(&Query::partition(crate::ports::Index::Primary, "USER#1")).await.expect("q").items.len(), 1);
    }

    #[tokio::test]
    async fn a_transaction_is_allowed_only_when_every_operation_is() {
        let a = adapters();
        let limits_only = table(&a, &[Access::TableRead]);
        let mixed =
            vec![TxOp::Put { item: item("IDEM#x"), cond: None }, TxOp::Put { item: item("USER#2"), cond: None }];
        assert_denied(limits_only.transact(mixed.clone()).await, "TransactWriteItems (Put) on USER#2");
        assert_eq!(a.table.get(&Key::new("IDEM#x", "S")).await, Ok(None), "nothing of it was written");
        // Like IAM's ForAllValues condition: only pipeline items is fine...
        limits_only.transact(vec![TxOp::Put { item: item("RL#a"), cond: None }]).await.expect("pipeline items");
        // ...but a condition check is only in the TableWrite statement.
        let check = vec![TxOp::Check { key: Key::new("RL#a", "S"), cond: Cond::Exists }];
        assert_denied(limits_only.transact(check.clone()).await, "ConditionCheck");
        table(&a, &[Access::TableWrite]).transact(mixed).await.expect("granted");
        table(&a, &[Access::TableWrite]).transact(check).await.expect("granted check");
    }

    #[tokio::test]
    async fn health_checks_need_health_checks() {
        let a = adapters();
        let none = Grant::new("test-fn", &[]);
        assert_denied(CheckedTable::new(a.table.clone(), none).check().await, "HealthChecks");
        assert_denied(CheckedBlobs::new(a.blobs.clone(), none).check().await, "HealthChecks");
        assert_denied(CheckedQueue::new(a.queue.clone(), none).check().await, "HealthChecks");
        let health = Grant::new("test-fn", &[Access::HealthChecks]);
        CheckedTable::new(a.table.clone(), health).check().await.expect("table check");
        CheckedBlobs::new(a.blobs.clone(), health).check().await.expect("bucket check");
        CheckedQueue::new(a.queue.clone(), health).check().await.expect("queue check");
    }

    #[tokio::test]
    async fn blob_write_outside_the_granted_prefix_is_denied() {
        let a = adapters();
        let b = CheckedBlobs::new(
            a.blobs.clone(),
            Grant::new("test-fn", &[Access::BlobWrite("avatars/"), Access::BlobRead("exports/")]),
        );
        let ttl = Duration::from_secs(60);
        assert_denied(b.put("exports/u/x.zip", Bytes::from_static(b"x"), "application/zip").await, "BlobWrite");
        assert_denied(b.delete("exports/u/x.zip").await, "DeleteObject on exports/u/x.zip");
        assert_denied(b.presign_put("exports/u/x.zip", "application/zip", ttl).await, "BlobWrite");
        let limits = PutLimits::at_most(10, None);
        assert_denied(b.presign_put_limited("exports/u/x.zip", "application/zip", ttl, limits).await, "BlobWrite");
        b.presign_put_limited("avatars/u/c.png", "image/png", ttl, limits).await.expect("granted limited presign");
        b.put("avatars/u/a.png", Bytes::from_static(b"png"), "image/png").await.expect("granted put");
        b.presign_put("avatars/u/b.png", "image/png", ttl).await.expect("granted presign");
        b.delete("avatars/u/a.png").await.expect("granted delete");
    }

    #[tokio::test]
    async fn blob_reads_and_lists_need_a_read_prefix() {
        let a = adapters();
        a.blobs.put("avatars/u/a.png", Bytes::from_static(b"png"), "image/png").await.expect("seed");
        a.blobs.put("exports/u/x.zip", Bytes::from_static(b"zip"), "application/zip").await.expect("seed");
        let b = CheckedBlobs::new(
            a.blobs.clone(),
            Grant::new("test-fn", &[Access::BlobRead("exports/"), Access::BlobWrite("avatars/")]),
        );
        let ttl = Duration::from_secs(60);
        assert_denied(b.get("avatars/u/a.png").await, "BlobRead");
        assert_denied(b.head("avatars/u/a.png").await, "HeadObject");
        assert_denied(b.presign_get("avatars/u/a.png", ttl, None).await, "BlobRead");
        assert_denied(b.list("avatars/").await, "ListObjectsV2 on avatars/");
        assert_denied(b.list("").await, "ListObjectsV2");
        assert!(b.get("exports/u/x.zip").await.expect("get").is_some());
        assert!(b.head("exports/u/x.zip").await.expect("head").is_some());
        b.presign_get("exports/u/x.zip", ttl, Some("x.zip")).await.expect("presign get");
        assert_eq!(b.list("exports/u/").await.expect("list"), ["exports/u/x.zip"]);
        // delete_all lists and deletes: it needs both over the prefix.
        assert_denied(b.delete_all("exports/u/").await, "BlobWrite");
        assert_denied(b.delete_all("avatars/u/").await, "BlobRead");
        let both = CheckedBlobs::new(
            a.blobs.clone(),
            Grant::new("test-fn", &[Access::BlobRead("exports/"), Access::BlobWrite("exports/")]),
        );
        both.delete_all("exports/u/").await.expect("granted delete_all");
        assert!(a.blobs.list("exports/").await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn secret_read_of_another_name_is_denied() {
        let a = adapters();
        a.secrets.put("signing-keys", "{}").await.expect("seed");
        a.secrets.put("model-keys", "{}").await.expect("seed");
        let s = CheckedSecrets::new(a.secrets.clone(), Grant::new("test-fn", &[Access::SecretRead("model-keys")]));
        assert_denied(s.get("signing-keys").await, "SecretRead(\"signing-keys\") for GetSecretValue");
        assert_denied(s.get("model-keys-2").await, "SecretRead");
        assert_eq!(s.get("model-keys").await.expect("granted"), Some("{}".into()));
        assert_denied(s.put("model-keys", "{}").await, "SecretWrite(\"model-keys\")");
        let w = CheckedSecrets::new(a.secrets.clone(), Grant::new("test-fn", &[Access::SecretWrite("signing-keys")]));
        w.put("signing-keys", "{\"keys\":[]}").await.expect("granted put");
        assert_denied(w.get("signing-keys").await, "SecretRead");
    }

    #[tokio::test]
    async fn queue_calls_need_send_or_consume() {
        let a = adapters();
        let ttl = Duration::from_secs(30);
        let sender = CheckedQueue::new(a.queue.clone(), Grant::new("test-fn", &[Access::QueueSend]));
        sender.send("{}", Duration::ZERO).await.expect("granted send");
        assert_denied(sender.receive(1, ttl, Duration::ZERO).await, "QueueConsume for ReceiveMessage");
        assert_denied(sender.delete("r").await, "QueueConsume");
        assert_denied(sender.extend("r", ttl).await, "QueueConsume");
        assert_denied(sender.dead_letters(1).await, "QueueConsume");

        let consumer = CheckedQueue::new(a.queue.clone(), Grant::new("test-fn", &[Access::QueueConsume]));
        assert_denied(consumer.send("{}", Duration::ZERO).await, "QueueSend for SendMessage");
        let got = consumer.receive(1, ttl, Duration::ZERO).await.expect("granted receive");
        assert_eq!(got.len(), 1);
        consumer.extend(&got[0].receipt, ttl).await.expect("granted extend");
        consumer.delete(&got[0].receipt).await.expect("granted delete");
        assert!(consumer.dead_letters(1).await.expect("granted dead letters").is_empty());
    }

    #[tokio::test]
    async fn mail_needs_send_email() {
        let a = adapters();
        let email = Email { to: "a@x.test".into(), subject: "s".into(), text: "t".into(), html: None };
        let none = CheckedMailer::new(a.mailer.clone(), Grant::new("test-fn", &[Access::TableWrite]));
        assert_denied(none.send(&email).await, "SendEmail");
        CheckedMailer::new(a.mailer.clone(), Grant::new("test-fn", &[Access::SendEmail]))
            .send(&email)
            .await
            .expect("granted");
    }
}

#[cfg(test)]
mod context_tests {
    use std::sync::Arc;

    use crate::clock::{FixedClock, SequentialIds};
    use crate::config::Config;
    use crate::context::AppContext;
    use crate::ports::{Key, StoreError};
    use crate::routes::Access;

    const HISTORY_GET: &[Access] = &[Access::TableRead];

    async fn base(dir: &tempfile::TempDir) -> Arc<AppContext> {
        let clock = Arc::new(FixedClock::new(time::macros::datetime!(2026-01-02 03:04:05 UTC)));
        AppContext::connect_with(Config::embedded(dir.path().to_path_buf()), clock, Arc::new(SequentialIds::default()))
            .await
            .expect("context")
    }

    #[tokio::test]
    async fn a_function_context_checks_its_ports_and_shares_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = base(&dir).await;
        let ctx = base.for_function("history-get", HISTORY_GET);
        assert_eq!(ctx.function(), Some("history-get"));
        assert_eq!(base.function(), None);
        assert!(Arc::ptr_eq(&ctx, &base.for_function("history-get", HISTORY_GET)), "made once per function");
        assert!(Arc::ptr_eq(&ctx, &ctx.for_function("history-get", HISTORY_GET)));

        let item = serde_json::json!({"pk": "USER#1", "sk": "PROFILE"}).as_object().cloned().expect("object");
        match ctx.table.put(item.clone(), None).await {
            Err(StoreError::AccessDenied(text)) => assert_eq!(
                text,
                "function `history-get` is not granted TableWrite for PutItem on USER#1 / PROFILE \
                 (add it to the row's access)"
            ),
            other => panic!("expected AccessDenied, got {other:?}"),
        }
        base.table.put(item, None).await.expect("the base context is unchecked");
        assert!(ctx.table.get(&Key::new("USER#1", "PROFILE")).await.expect("get").is_some(), "same table");

        // Extensions are shared with the base context.
        base.set_extension(Arc::new(42_u32));
        assert_eq!(ctx.extension::<u32>().as_deref(), Some(&42));

        // The signer reads its secret through the checked store.
        let claims = crate::tokens::Claims {
            sub: "u-1".into(),
            iss: "i".into(),
            aud: "a".into(),
            exp: 2,
            nbf: 0,
            iat: 0,
            role: crate::auth::Role::User,
            plan: crate::auth::Plan::Free,
            status: "active".into(),
            sid: None,
        };
        assert!(ctx.signer.sign(&claims).await.is_err(), "a function without SecretRead(signing-keys) cannot sign");
        const ISSUES_TOKENS: &[Access] = &[Access::SecretRead("signing-keys")];
        base.for_function("auth-login", ISSUES_TOKENS).signer.sign(&claims).await.expect("granted");
    }
}
