//! The in-process job queue, persisted in the embedded store so queued jobs
//! survive a restart. Same semantics as SQS with a redrive policy: at-least-once
//! delivery, a visibility timeout, and the dead-letter queue once a message has
//! been received `max_receives` times without being deleted.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::RngCore;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::store::{DEAD, LocalStore, QUEUE, TxError, unavailable};
use crate::clock::{Clock, IdGen};
use crate::ports::queue::{Delivery, JobQueue, MAX_MESSAGE_BYTES};
use crate::ports::{StoreError, StoreResult};

pub struct LocalQueue {
    store: Arc<LocalStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    max_receives: u32,
    arrived: Notify,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    body: String,
    visible_at_ms: i64,
    receive_count: u32,
    receipt: String,
}

const POLL: Duration = Duration::from_millis(50);

impl LocalQueue {
    pub fn new(store: Arc<LocalStore>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>, max_receives: u32) -> Self {
        Self { store, clock, ids, max_receives: max_receives.max(1), arrived: Notify::new() }
    }

    fn now_ms(&self) -> i64 {
        (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// Whether a message is visible at `now`.
    fn any_due(&self, now: i64) -> StoreResult<bool> {
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        let queue = txn.open_table(QUEUE).map_err(|e| unavailable("open table", e))?;
        for entry in queue.iter().map_err(|e| unavailable("iterate", e))? {
            let (_, value) = entry.map_err(|e| unavailable("iterate", e))?;
            if serde_json::from_slice::<Stored>(value.value()).is_ok_and(|stored| stored.visible_at_ms <= now) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Takes up to `max` visible messages in one transaction.
    async fn take(&self, max: u32, visibility: Duration) -> StoreResult<Vec<Delivery>> {
        let now = self.now_ms();
        // An idle poll reads only: a write would cost a sync every poll.
        if !self.any_due(now)? {
            return Ok(Vec::new());
        }
        let max_receives = self.max_receives;
        self.store
            .write(move |txn| {
                let mut queue = txn.open_table(QUEUE)?;
                let mut due = Vec::new();
                for entry in queue.iter()? {
                    let (id, value) = entry?;
                    if let Ok(stored) = serde_json::from_slice::<Stored>(value.value())
                        && stored.visible_at_ms <= now
                    {
                        due.push((id.value().to_string(), stored));
                    }
                    if due.len() as u32 >= max {
                        break;
                    }
                }
                let mut out = Vec::new();
                for (id, mut stored) in due {
                    if stored.receive_count >= max_receives {
                        queue.remove(id.as_str())?;
                        let bytes = encode(&stored)?;
                        txn.open_table(DEAD)?.insert(id.as_str(), bytes.as_slice())?;
                        continue;
                    }
                    stored.receive_count += 1;
                    stored.visible_at_ms = now + visibility.as_millis() as i64;
                    stored.receipt = format!("{id}.{}", new_token());
                    queue.insert(id.as_str(), encode(&stored)?.as_slice())?;
                    out.push(Delivery {
                        message_id: id,
                        receipt: stored.receipt,
                        body: stored.body,
                        receive_count: stored.receive_count,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Runs `f` on the message a receipt names, when the receipt is current.
    async fn with_receipt(
        &self,
        receipt: &str,
        f: impl FnOnce(&mut Stored) -> Option<bool> + Send + 'static,
    ) -> StoreResult<()> {
        let id = receipt.split('.').next().unwrap_or_default().to_string();
        let receipt = receipt.to_string();
        self.store
            .write(move |txn| {
                let mut queue = txn.open_table(QUEUE)?;
                let current = queue.get(id.as_str())?.and_then(|v| serde_json::from_slice::<Stored>(v.value()).ok());
                let Some(mut stored) = current else { return Ok(()) };
                if stored.receipt != receipt {
                    return Err(StoreError::Invalid("the receipt is not current".into()).into());
                }
                match f(&mut stored) {
                    Some(true) => {
                        queue.insert(id.as_str(), encode(&stored)?.as_slice())?;
                    }
                    Some(false) => {
                        queue.remove(id.as_str())?;
                    }
                    None => {}
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl JobQueue for LocalQueue {
    async fn send(&self, body: &str, delay: Duration) -> StoreResult<String> {
        if body.is_empty() || body.len() > MAX_MESSAGE_BYTES {
            return Err(StoreError::Invalid(format!("a message body is 1..={MAX_MESSAGE_BYTES} bytes")));
        }
        if delay > Duration::from_secs(900) {
            return Err(StoreError::Invalid("delay is at most 15 minutes".into()));
        }
        let id = self.ids.ulid().to_string();
        let stored = Stored {
            body: body.to_string(),
            visible_at_ms: self.now_ms() + delay.as_millis() as i64,
            receive_count: 0,
            receipt: String::new(),
        };
        let key = id.clone();
        self.store
            .write(move |txn| {
                txn.open_table(QUEUE)?.insert(key.as_str(), encode(&stored)?.as_slice())?;
                Ok(())
            })
            .await?;
        self.arrived.notify_waiters();
        Ok(id)
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Delivery>> {
        if !(1..=10).contains(&max) {
            return Err(StoreError::Invalid("receive takes 1..=10 messages".into()));
        }
        let deadline = tokio::time::Instant::now() + wait.min(Duration::from_secs(20));
        loop {
            let arrived = self.arrived.notified();
            let got = self.take(max, visibility).await?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(got);
            }
            // Wake on a new message, or poll for a visibility timeout running out.
            let _ = tokio::time::timeout(POLL.min(deadline - tokio::time::Instant::now()), arrived).await;
        }
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.with_receipt(receipt, |_| Some(false)).await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        let until = self.now_ms() + visibility.as_millis() as i64;
        self.with_receipt(receipt, move |stored| {
            stored.visible_at_ms = until;
            Some(true)
        })
        .await
    }

    async fn dead_letters(&self, max: u32) -> StoreResult<Vec<Delivery>> {
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        let dead = txn.open_table(DEAD).map_err(|e| unavailable("open table", e))?;
        let mut out = Vec::new();
        for entry in dead.iter().map_err(|e| unavailable("iterate", e))?.take(max as usize) {
            let (id, value) = entry.map_err(|e| unavailable("iterate", e))?;
            if let Ok(stored) = serde_json::from_slice::<Stored>(value.value()) {
                out.push(Delivery {
                    message_id: id.value().to_string(),
                    receipt: stored.receipt,
                    body: stored.body,
                    receive_count: stored.receive_count,
                });
            }
        }
        Ok(out)
    }

    async fn check(&self) -> StoreResult<()> {
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        txn.open_table(QUEUE).map_err(|e| unavailable("open table", e))?;
        Ok(())
    }
}

fn encode(stored: &Stored) -> Result<Vec<u8>, TxError> {
    serde_json::to_vec(stored).map_err(|e| TxError::Db(e.to_string()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
