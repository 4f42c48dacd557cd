//! Embedded adapters: everything on the local disk under one data folder, no
//! network and no AWS. The item table and the job queue share one redb file.

mod blobs;
mod mailer;
mod queue;
mod secrets;
mod speech;
mod store;
mod table;

pub use blobs::{BlobUrlError, LocalBlobs, SignedBlobRequest};
pub use mailer::OutboxMailer;
pub use queue::LocalQueue;
pub use secrets::FileSecrets;
pub use speech::{ESPEAK_WORDS_PER_MINUTE, EspeakSpeech, parse_voices};
pub use store::LocalStore;
pub use table::LocalTable;
