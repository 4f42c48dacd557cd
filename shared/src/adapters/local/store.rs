//! The redb database behind the embedded table and queue.
//!
//! A write is answered only once it is durable ("2xx means saved"), with
//! group commit so that this does not cap the server at one write per fsync:
//!
//! - each write transaction commits with `Durability::None` (no sync) and
//!   takes a ticket, the number of commits so far;
//! - then it waits for a durable commit (an empty `Durability::Immediate`
//!   transaction, which in redb makes every earlier non-durable commit
//!   durable too) that began after its own commit. The first writer that
//!   finds no sync under way becomes the syncer and runs one for everyone
//!   committed so far; the others wait on a condition variable, and one
//!   of them leads the next sync if theirs was not covered.
//!
//! So N concurrent writers share one fsync, and a crash (even `kill -9`)
//! loses only writes that were never answered. The file is always
//! consistent. Writes run on Tokio's blocking pool (`write` is async), so
//! neither a commit nor the wait for a sync holds up the runtime's workers;
//! a writer whose caller gave up still commits and syncs to the end.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use redb::{Database, Durability, TableDefinition, WriteTransaction};

use crate::ports::{StoreError, StoreResult};

pub(super) const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
pub(super) const GSI1: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi1");
pub(super) const GSI2: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi2");
pub(super) const QUEUE: TableDefinition<&str, &[u8]> = TableDefinition::new("queue");
pub(super) const DEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("dead_letters");

pub struct LocalStore {
    db: Database,
    sync: Mutex<SyncState>,
    synced: Condvar,
}

/// Commits are counted; `durable` is the count a completed sync covered.
#[derive(Default)]
struct SyncState {
    committed: u64,
    durable: u64,
    syncing: bool,
}

impl LocalStore {
    /// Opens (or creates) the database file and its tables.
    pub fn open(path: &Path) -> StoreResult<Arc<Self>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable("create data folder", e))?;
        }
        let db = Database::create(path).map_err(|e| unavailable("open database", e))?;
        let store = Arc::new(Self { db, sync: Mutex::new(SyncState::default()), synced: Condvar::new() });
        store.commit(|txn| {
            for table in [ITEMS, GSI1, GSI2] {
                txn.open_table(table)?;
            }
            for table in [QUEUE, DEAD] {
                txn.open_table(table)?;
            }
            Ok(())
        })?;
        store.flush()?;
        Ok(store)
    }

    pub(super) fn db(&self) -> &Database {
        &self.db
    }

    /// Runs `f` in one write transaction, commits it and returns once the
    /// commit is durable. Runs on the blocking pool: redb serialises
    /// writers, and neither waiting for the write lock nor for a sync may
    /// hold up the async runtime.
    pub(super) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&WriteTransaction) -> Result<T, TxError> + Send + 'static,
    ) -> StoreResult<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.write_blocking(f)).await.map_err(|e| unavailable("writer task", e))?
    }

    /// `write` on the calling thread, which may block for a sync.
    pub(super) fn write_blocking<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, TxError>) -> StoreResult<T> {
        let (value, ticket) = self.commit(f)?;
        self.wait_durable(ticket)?;
        Ok(value)
    }

    /// Runs `f` in one write transaction and commits it without a sync; the
    /// value and the commit's ticket for `wait_durable`.
    fn commit<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, TxError>) -> StoreResult<(T, u64)> {
        let mut txn = self.db.begin_write().map_err(|e| unavailable("begin write", e))?;
        txn.set_durability(Durability::None);
        match f(&txn) {
            Ok(value) => {
                txn.commit().map_err(|e| unavailable("commit", e))?;
                // Counted after the commit returned: a sync that begins once
                // this count is read covers the commit.
                let mut state = self.state();
                state.committed += 1;
                Ok((value, state.committed))
            }
            Err(err) => {
                let _ = txn.abort();
                Err(err.into())
            }
        }
    }

    /// Returns once a sync covering commit number `ticket` has completed,
    /// running that sync when no other writer is.
    fn wait_durable(&self, ticket: u64) -> StoreResult<()> {
        let mut state = self.state();
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if !state.syncing {
                // Lead: sync everything committed so far, ours included.
                state.syncing = true;
                let target = state.committed;
                drop(state);
                // A panic must not leave `syncing` set, or every writer would wait forever.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.sync()))
                    .unwrap_or_else(|_| Err(unavailable("sync", "panicked")));
                state = self.state();
                state.syncing = false;
                if result.is_ok() {
                    state.durable = state.durable.max(target);
                }
                self.synced.notify_all();
                // On failure the followers wake and one of them tries again.
                result?;
                continue;
            }
            state = self.synced.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Makes every commit so far durable: an empty `Immediate` commit, which
    /// redb makes only after persisting the non-durable commits before it.
    fn sync(&self) -> StoreResult<()> {
        let mut txn = self.db.begin_write().map_err(|e| unavailable("begin write", e))?;
        txn.set_durability(Durability::Immediate);
        txn.commit().map_err(|e| unavailable("commit", e))
    }

    /// Makes every commit so far durable (each write already waits for
    /// this; kept for shutdown).
    pub fn flush(&self) -> StoreResult<()> {
        let ticket = self.state().committed;
        self.wait_durable(ticket)
    }

    fn state(&self) -> MutexGuard<'_, SyncState> {
        self.sync.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        let state = self.state();
        if state.durable < state.committed {
            drop(state);
            let _ = self.sync();
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
