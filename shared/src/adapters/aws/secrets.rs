//! Secrets on Secrets Manager (`SecretStore`): the secret id is `prefix + name`;
//! values are cached for `cache_ttl` (by the injected clock), and a put
//! refreshes the cache. Misses are not cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use time::OffsetDateTime;

use super::{error_code, sdk_error};
use crate::clock::Clock;
use crate::ports::secrets::{SecretStore, validate_name};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "secretsmanager";

pub struct AwsSecrets {
    client: Client,
    prefix: String,
    cache_ttl: Duration,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, (String, OffsetDateTime)>>,
}

impl AwsSecrets {
    pub fn new(client: Client, prefix: String, cache_ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { client, prefix, cache_ttl, clock, cache: Mutex::new(HashMap::new()) }
    }

    fn cached(&self, name: &str) -> Option<String> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (value, until) = cache.get(name)?;
        (self.clock.now() < *until).then(|| value.clone())
    }

    fn remember(&self, name: &str, value: &str) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let until = self.clock.now() + self.cache_ttl;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(name.to_string(), (value.to_string(), until));
    }

    fn id(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

#[async_trait]
impl SecretStore for AwsSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        validate_name(name)?;
        if let Some(value) = self.cached(name) {
            return Ok(Some(value));
        }
        let out = match self.client.get_secret_value().secret_id(self.id(name)).send().await {
            Ok(out) => out,
            Err(err) if error_code(&err) == Some("ResourceNotFoundException") => return Ok(None),
            Err(err) => return Err(sdk_error(SERVICE, &err)),
        };
        let value = match (out.secret_string(), out.secret_binary()) {
            (Some(s), _) => s.to_string(),
            (None, Some(b)) => String::from_utf8(b.as_ref().to_vec())
                .map_err(|_| StoreError::Invalid(format!("{SERVICE}: secret {name} is not UTF-8")))?,
            (None, None) => return Ok(None),
        };
        self.remember(name, &value);
        Ok(Some(value))
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        validate_name(name)?;
        let id = self.id(name);
        let put = self.client.put_secret_value().secret_id(&id).secret_string(value).send().await;
        match put {
            Ok(_) => {}
            Err(err) if error_code(&err) == Some("ResourceNotFoundException") => {
                let created = self.client.create_secret().name(&id).secret_string(value).send().await;
                match created {
                    Ok(_) => {}
                    // Created concurrently: store our value as the newest version.
                    Err(err) if error_code(&err) == Some("ResourceExistsException") => {
                        self.client
                            .put_secret_value()
                            .secret_id(&id)
                            .secret_string(value)
                            .send()
                            .await
                            .map_err(|e| sdk_error(SERVICE, &e))?;
                    }
                    Err(err) => return Err(sdk_error(SERVICE, &err)),
                }
            }
            Err(err) => return Err(sdk_error(SERVICE, &err)),
        }
        self.remember(name, value);
        Ok(())
    }
}
