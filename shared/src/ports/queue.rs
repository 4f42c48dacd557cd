//! The job queue: at-least-once delivery with a visibility timeout, and a
//! dead-letter queue that takes a message once it has been received more
//! than the configured number of times without being deleted.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    /// Identifies this receipt; deleting or extending with an older receipt fails.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

/// The largest message body (SQS's limit).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues a message, visible after `delay` (at most 15 minutes). Returns its id.
    async fn send(&self, body: &str, delay: Duration) -> StoreResult<String>;
    /// Up to `max` (1..=10) visible messages, hidden from other receivers for
    /// `visibility`; waits up to `wait` (at most 20 s) for one to arrive.
    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Delivery>>;
    /// Acknowledges a message: it is never delivered again.
    async fn delete(&self, receipt: &str) -> StoreResult<()>;
    /// Heartbeat: keeps a message hidden for `visibility` from now.
    async fn extend(&self, receipt: &str, visibility: Duration) -> StoreResult<()>;
    /// Messages in the dead-letter queue (not removed from it).
    async fn dead_letters(&self, max: u32) -> StoreResult<Vec<Delivery>>;
    async fn check(&self) -> StoreResult<()>;
}
