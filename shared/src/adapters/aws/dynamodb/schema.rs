//! Creates the single table (for tests and the local server on emulators):
//! `pk`/`sk` strings, GSIs `gsi1` and `gsi2` projecting everything,
//! on-demand billing, TTL on `ttl`.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::{SERVICE, build_error};
use crate::adapters::aws::describe;
use crate::adapters::aws::{error_code, sdk_error};
use crate::ports::StoreResult;
use crate::ports::table::{Index, PK, SK, TTL};

/// How long to wait for a new table (and its indexes) to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// Creates the table unless it exists, then waits until it and its GSIs are ACTIVE.
pub async fn create_table_if_missing(client: &Client, name: &str) -> StoreResult<()> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => return wait_active(client, name).await,
        Err(err) if error_code(&err) == Some("ResourceNotFoundException") => {}
        Err(err) => return Err(sdk_error(SERVICE, &err)),
    }
    let mut attrs = vec![definition(PK)?, definition(SK)?];
    let mut indexes = Vec::new();
    for index in [Index::Gsi1, Index::Gsi2] {
        let (pk, sk) = index.attrs();
        attrs.push(definition(pk)?);
        attrs.push(definition(sk)?);
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(index.name().unwrap_or_default())
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(build_error)?,
        );
    }
    let created = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attrs))
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .set_global_secondary_indexes(Some(indexes))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Created concurrently by someone else: just wait for it.
        Err(err) if error_code(&err) == Some("ResourceInUseException") => {}
        Err(err) => return Err(sdk_error(SERVICE, &err)),
    }
    wait_active(client, name).await?;
    let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL).build().map_err(build_error)?;
    // Emulators may not support TTL; the adapters filter expired items anyway.
    if let Err(err) = client.update_time_to_live().table_name(name).time_to_live_specification(ttl).send().await {
        tracing::debug!(error = %describe(SERVICE, &err), "could not enable TTL");
    }
    Ok(())
}

async fn wait_active(client: &Client, name: &str) -> StoreResult<()> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let out = client.describe_table().table_name(name).send().await.map_err(|e| sdk_error(SERVICE, &e))?;
        let active = out.table().is_some_and(|t| {
            t.table_status() == Some(&TableStatus::Active)
                && t.global_secondary_indexes().iter().all(|i| i.index_status() == Some(&IndexStatus::Active))
        });
        if active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(crate::ports::StoreError::Unavailable(format!("{SERVICE}: table {name} is not ACTIVE")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn definition(name: &str) -> StoreResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

fn key(name: &str, key_type: KeyType) -> StoreResult<KeySchemaElement> {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(build_error)
}
