//! The redb database behind the embedded table and queue.
//!
//! Commits are not synced one by one (that would cap the local server at the
//! disk's fsync rate); a background task makes the latest state durable every
//! `FLUSH_EVERY`, and `flush` (called on shutdown and drop) does it at once.
//! A crash loses at most that window, and the file is always consistent.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redb::{Database, Durability, TableDefinition, WriteTransaction};

use crate::ports::{StoreError, StoreResult};

pub(super) const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
pub(super) const GSI1: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi1");
pub(super) const GSI2: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi2");
pub(super) const QUEUE: TableDefinition<&str, &[u8]> = TableDefinition::new("queue");
pub(super) const DEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("dead_letters");

const FLUSH_EVERY: Duration = Duration::from_millis(200);

pub struct LocalStore {
    db: Database,
    dirty: AtomicBool,
}

impl LocalStore {
    /// Opens (or creates) the database file and its tables. When called inside
    /// a Tokio runtime, starts the background flusher.
    pub fn open(path: &Path) -> StoreResult<Arc<Self>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable("create data folder", e))?;
        }
        let db = Database::create(path).map_err(|e| unavailable("open database", e))?;
        let store = Arc::new(Self { db, dirty: AtomicBool::new(false) });
        store.write(|txn| {
            for table in [ITEMS, GSI1, GSI2] {
                txn.open_table(table)?;
            }
            for table in [QUEUE, DEAD] {
                txn.open_table(table)?;
            }
            Ok(())
        })?;
        store.flush()?;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&store);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(FLUSH_EVERY).await;
                    let Some(store) = weak.upgrade() else { break };
                    if store.dirty.load(Ordering::Acquire) {
                        let _ = tokio::task::spawn_blocking(move || store.flush()).await;
                    }
                }
            });
        }
        Ok(store)
    }

    pub(super) fn db(&self) -> &Database {
        &self.db
    }

    /// Runs `f` in one write transaction and commits it (without a sync).
    pub(super) fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, TxError>) -> StoreResult<T> {
        let mut txn = self.db.begin_write().map_err(|e| unavailable("begin write", e))?;
        txn.set_durability(Durability::None);
        match f(&txn) {
            Ok(value) => {
                txn.commit().map_err(|e| unavailable("commit", e))?;
                self.dirty.store(true, Ordering::Release);
                Ok(value)
            }
            Err(err) => {
                let _ = txn.abort();
                Err(err.into())
            }
        }
    }

    /// Makes every commit so far durable.
    pub fn flush(&self) -> StoreResult<()> {
        self.dirty.store(false, Ordering::Release);
        let mut txn = self.db.begin_write().map_err(|e| unavailable("begin write", e))?;
        txn.set_durability(Durability::Immediate);
        txn.commit().map_err(|e| unavailable("commit", e))
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        if self.dirty.load(Ordering::Acquire) {
            let _ = self.flush();
        }
    }
}

/// An error inside a write transaction: a port error, or redb's.
pub(super) enum TxError {
    Store(StoreError),
    Db(String),
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

impl From<TxError> for StoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Store(e) => e,
            TxError::Db(msg) => StoreError::Unavailable(msg),
        }
    }
}

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for TxError {
            fn from(e: $t) -> Self {
                TxError::Db(format!("embedded store: {e}"))
            }
        }
    )*};
}
db_error!(redb::TableError, redb::StorageError, redb::TransactionError, redb::CommitError);

pub(super) fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("embedded store: {what}: {e}"))
}
