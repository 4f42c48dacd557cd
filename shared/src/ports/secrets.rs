//! Secrets: named string values (JSON documents for key sets).

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
