//! The social layer's domain, shared by the services that make social
//! events happen (posts, comments and likes in `functions/social`; follows,
//! profiles and notifications in `functions/profiles`; scenarios and shares
//! in their own services):
//!
//! - [`stats`]: each account's counters (followers, posts, likes received,
//!   ...), changed by atomic ADD in the transaction that makes what they
//!   count, and the leaderboards read from them;
//! - [`notify`]: notifications, never for one's own action, a burst of likes
//!   gathered into one;
//! - [`achievements`]: earned from the counters and from real events, once;
//! - [`authors`]: what others see of an account next to its content;
//! - [`feed`]: public scenarios' entries in the feeds;
//! - [`follows`]: who follows whom, and a follow with its counters;
//! - [`posts`]: posts, and the one visibility rule every read path applies;
//! - [`comments`]: threaded comments on posts;
//! - [`likes`]: like markers and the toggle that keeps counts exact.
//!
//! docs/social.md has the item design with every access pattern.

pub mod achievements;
pub mod authors;
pub mod comments;
pub mod feed;
pub mod follows;
pub mod likes;
pub mod notify;
pub mod posts;
pub mod search;
pub mod stats;

use std::time::Duration;

/// A short, growing, jittered pause before retrying a transaction that lost
/// a race (DynamoDB cancels concurrent transactions on one item).
pub async fn backoff(attempt: u32) {
    let base = 4u64 << attempt.min(6);
    let jitter = rand::random::<u64>() % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
