//! Secrets: named string values (JSON documents for key sets).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &str) -> StoreResult<Option<String>>;
    /// Creates the secret or replaces its value.
    async fn put(&self, name: &str, value: &str) -> StoreResult<()>;
}

/// Secret names: what both Secrets Manager and a file name accept.
pub fn validate_name(name: &str) -> StoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok { Ok(()) } else { Err(super::StoreError::Invalid(format!("bad secret name {name:?}"))) }
}

/// A secret store that keeps what it read for `ttl` (by `clock`); a put
/// refreshes it, and a miss is not kept. Over `crate::metering::Metered`, a
/// hit is no call.
pub struct CachedSecrets {
    inner: Arc<dyn SecretStore>,
    ttl: Duration,
    clock: Arc<dyn crate::clock::Clock>,
    kept: Mutex<HashMap<String, (String, time::OffsetDateTime)>>,
}

impl CachedSecrets {
    pub fn new(inner: Arc<dyn SecretStore>, ttl: Duration, clock: Arc<dyn crate::clock::Clock>) -> Self {
        Self { inner, ttl, clock, kept: Mutex::new(HashMap::new()) }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, time::OffsetDateTime)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, name: &str, value: &str) {
        if !self.ttl.is_zero() {
            let until = self.clock.now() + self.ttl;
            self.kept().insert(name.to_string(), (value.to_string(), until));
        }
    }
}

#[async_trait]
impl SecretStore for CachedSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        let now = self.clock.now();
        if let Some((value, _)) = self.kept().get(name).filter(|(_, until)| now < *until) {
            return Ok(Some(value.clone()));
        }
        let value = self.inner.get(name).await?;
        if let Some(value) = &value {
            self.keep(name, value);
        }
        Ok(value)
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        self.inner.put(name, value).await?;
        self.keep(name, value);
        Ok(())
    }
}
