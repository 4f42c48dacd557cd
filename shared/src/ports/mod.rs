//! Ports: the narrow traits the domain is written against. Each has an AWS
//! adapter (`crate::adapters::aws`) and an embedded one (`crate::adapters::local`),
//! and one conformance suite (`crate::conformance`) that both must pass.

pub mod blobs;
pub mod mailer;
pub mod queue;
pub mod secrets;
pub mod speech;
pub mod table;

pub use blobs::{BlobMeta, BlobStore, Presigned, PutLimits};
pub use mailer::{Email, Mailer};
pub use queue::{Delivery, JobQueue};
pub use secrets::SecretStore;
pub use speech::{Pcm, SpeechError, SpeechRequest, SpeechSynthesizer, Voice};
pub use table::{Cond, Index, Item, ItemTable, Key, Query, QueryPage, SortKey, TxOp, Update};

/// The one error type of every port. Adapters map their SDK errors into it;
/// `crate::error::ApiError` maps it to HTTP.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StoreError {
    /// A write's condition did not hold.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; `failed` lists the indexes of the
    /// operations whose condition did not hold (empty when it was a conflict).
    #[error("transaction cancelled (failed operations: {failed:?})")]
    TransactionCanceled { failed: Vec<usize> },
    /// The caller asked for something the port cannot do (bad key, too big, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The backing service failed or could not be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The function's route row (or worker row) does not grant what the call
    /// needs (`crate::access`); in AWS its IAM policy would refuse it too. The
    /// text names the function, the missing grant and the call.
    #[error("access denied: {0}")]
    AccessDenied(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
