//! Secrets on Secrets Manager (`SecretStore`): the secret id is `prefix + name`.
//! Every get is a call; the context keeps what was read for a while
//! (`crate::ports::secrets::CachedSecrets`).

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

use super::{error_code, sdk_error};
use crate::ports::secrets::{SecretStore, validate_name};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "secretsmanager";

pub struct AwsSecrets {
    client: super::Lazy<Client>,
    prefix: String,
}

impl AwsSecrets {
    pub fn new(client: impl Into<super::Lazy<Client>>, prefix: String) -> Self {
        Self { client: client.into(), prefix }
    }

    fn id(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

#[async_trait]
impl SecretStore for AwsSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        validate_name(name)?;
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
        Ok(())
    }
}
