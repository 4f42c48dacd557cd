//! Secrets as files under `<data dir>/secrets/` (mode 0600), with an
//! environment override: `WHATIF_SECRET_<NAME>` (upper-case, `-` and `.` as `_`)
//! wins over the file, so provider keys can be given without touching disk.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;

use crate::ports::secrets::{SecretStore, validate_name};
use crate::ports::{StoreError, StoreResult};

pub struct FileSecrets {
    dir: PathBuf,
    overrides: HashMap<String, String>,
}

impl FileSecrets {
    /// `env` is the process environment (passed in so tests control it).
    pub fn new(dir: PathBuf, env: &HashMap<String, String>) -> StoreResult<Self> {
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Unavailable(format!("secrets folder: {e}")))?;
        let overrides = env
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("WHATIF_SECRET_").map(|name| (name.to_string(), v.clone())))
            .collect();
        Ok(Self { dir, overrides })
    }

    fn env_name(name: &str) -> String {
        name.to_ascii_uppercase().replace(['-', '.'], "_")
    }
}

#[async_trait]
impl SecretStore for FileSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        validate_name(name)?;
        if let Some(value) = self.overrides.get(&Self::env_name(name)) {
            return Ok(Some(value.clone()));
        }
        match tokio::fs::read_to_string(self.dir.join(name)).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Unavailable(format!("secret file: {}", e.kind()))),
        }
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        validate_name(name)?;
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let value = value.to_string();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(value.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("secret task: {e}")))?
        .map_err(|e| StoreError::Unavailable(format!("secret file: {}", e.kind())))
    }
}
