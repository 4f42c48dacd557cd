//! Conformance suites: one per port, run against every adapter (the AWS ones
//! on DynamoDB Local and moto, the embedded ones on a temp folder). A suite
//! panics with a message naming the broken behaviour.
//!
//! Suites use a fresh ULID in every key, so several runs can share one table,
//! bucket or secret store. The queue suite needs a queue of its own.

mod blobs;
mod mailer;
mod queue;
mod secrets;
mod table;

pub use blobs::{Enforces, blob_store};
pub use mailer::mailer;
pub use queue::job_queue;
pub use secrets::secret_store;
pub use table::item_table;

use std::fmt::Debug;

use crate::ports::{StoreError, StoreResult};

/// A fresh id for this run's keys.
fn run_id() -> String {
    ulid::Ulid::new().to_string()
}

/// Unwraps a port result, naming the step that failed.
#[track_caller]
fn ok<T>(result: StoreResult<T>, step: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{step}: expected success, got {e:?}"),
    }
}

/// Asserts that a result is `Err(StoreError::Invalid(_))`.
#[track_caller]
fn assert_invalid<T: Debug>(result: StoreResult<T>, step: &str) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{step}: expected StoreError::Invalid, got {other:?}"),
    }
}
