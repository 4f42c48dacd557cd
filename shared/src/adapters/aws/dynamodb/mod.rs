//! The item table on DynamoDB (`ItemTable`), plus `create_table_if_missing`.
//!
//! TTL: DynamoDB deletes expired items late (emulators never), so reads drop
//! items whose `ttl` has passed by the injected clock, conditions treat them as
//! absent (see `expr`), and an update refuses to start from an expired item:
//! it is guarded by `NOT #ttl <= :now`, and when that guard fails the stale
//! item is deleted (conditionally) and the update retried.

mod attr;
mod expr;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update as DdbUpdate,
};

use self::attr::{Attrs, from_attrs, is_live, key_attrs, to_attr, to_attrs};
use self::expr::Expr;
pub use self::schema::create_table_if_missing;
use super::{describe, error_code, sdk_error};
use crate::clock::Clock;
use crate::ports::table::{
    Cond, Index, Item, ItemTable, Key, MAX_TX_OPS, PK, Query, QueryPage, SK, SortKey, TxOp, Update,
};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "dynamodb";
/// How many times a write retries after removing an expired item in its way.
const EXPIRED_RETRIES: usize = 3;
/// How many times `batch_get` asks again for unprocessed keys.
const BATCH_RETRIES: u32 = 8;
const MAX_BATCH_KEYS: usize = 100;

pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoTable {
    pub fn new(client: Client, table_name: String, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table_name, clock }
    }

    fn now(&self) -> i64 {
        self.clock.epoch_seconds()
    }

    /// The stored item, expired or not (a strongly consistent read).
    async fn get_stored(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(out.item().map(from_attrs))
    }

    /// Deletes the item under `key` when it has expired; true when there was one.
    async fn purge_if_expired(&self, key: &Key) -> StoreResult<bool> {
        let now = self.now();
        match self.get_stored(key).await? {
            Some(item) if !is_live(&item, now) => {}
            _ => return Ok(false),
        }
        let mut e = Expr::new();
        let still_expired = e.expired(now);
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .condition_expression(still_expired)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await;
        match deleted {
            // Replaced meanwhile: the caller's retry sees the new item.
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(true),
            Err(err) => Err(map_err(&err)),
        }
    }

    /// One operation of a transaction, its conditions built at `now`.
    fn tx_item(&self, op: &TxOp, now: i64) -> StoreResult<TransactWriteItem> {
        let mut e = Expr::new();
        let item = match op {
            TxOp::Put { item, cond } => {
                require_key(item)?;
                let cond = cond.as_ref().map(|c| e.cond(c, now));
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(item)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().put(put).build()
            }
            TxOp::Update { key, update, cond } => {
                let expression = e.update(update)?.ok_or_else(|| {
                    StoreError::Invalid("an update in a transaction needs at least one action".into())
                })?;
                let guard = update_guard(&mut e, cond.as_ref(), now);
                let update = DdbUpdate::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .update_expression(expression)
                    .condition_expression(guard)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().update(update).build()
            }
            TxOp::Delete { key, cond } => {
                let cond = cond.as_ref().map(|c| e.cond(c, now));
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().delete(delete).build()
            }
            TxOp::Check { key, cond } => {
                let cond = e.cond(cond, now);
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        };
        Ok(item)
    }

    /// One BatchGetItem round with retries of the unprocessed keys.
    async fn batch_get_chunk(&self, keys: Vec<Attrs>, now: i64, out: &mut Vec<Item>) -> StoreResult<()> {
        let mut pending = keys;
        let mut attempt = 0;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let res = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| map_err(&e))?;
            let found = res.responses().and_then(|r| r.get(&self.table)).map(Vec::as_slice).unwrap_or_default();
            out.extend(found.iter().map(from_attrs).filter(|item| is_live(item, now)));
            if let Some(left) = res.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                pending = left.keys().to_vec();
            }
            if !pending.is_empty() {
                attempt += 1;
                if attempt > BATCH_RETRIES {
                    return Err(StoreError::Unavailable(format!("{SERVICE}: batch_get: keys left unprocessed")));
                }
                tokio::time::sleep(Duration::from_millis(25 << attempt.min(6))).await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ItemTable for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let now = self.now();
        Ok(self.get_stored(key).await?.filter(|item| is_live(item, now)))
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        if keys.len() > MAX_BATCH_KEYS {
            return Err(StoreError::Invalid(format!("batch_get takes at most {MAX_BATCH_KEYS} keys")));
        }
        // DynamoDB refuses duplicate keys in one request.
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = Vec::with_capacity(unique.len());
        if !unique.is_empty() {
            let attrs = unique.into_iter().map(key_attrs).collect();
            self.batch_get_chunk(attrs, self.now(), &mut out).await?;
        }
        Ok(out)
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        require_key(&item)?;
        let mut e = Expr::new();
        let cond = cond.as_ref().map(|c| e.cond(c, self.now()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(())
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        for attempt in 0..=EXPIRED_RETRIES {
            let now = self.now();
            let mut e = Expr::new();
            let expression = e.update(&update)?;
            let guard = update_guard(&mut e, cond.as_ref(), now);
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .set_update_expression(expression)
                .condition_expression(guard)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match res {
                Ok(out) => return Ok(out.attributes().map(from_attrs).unwrap_or_else(|| key_item(key))),
                Err(err) if is_condition_failed(&err) => {
                    if attempt < EXPIRED_RETRIES && self.purge_if_expired(key).await? {
                        continue;
                    }
                    return Err(StoreError::ConditionFailed);
                }
                Err(err) => return Err(map_err(&err)),
            }
        }
        Err(StoreError::ConditionFailed)
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<Option<Item>> {
        let now = self.now();
        let mut e = Expr::new();
        let cond = cond.as_ref().map(|c| e.cond(c, now));
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(out.attributes().map(from_attrs).filter(|item| is_live(item, now)))
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        let now = self.now();
        let (pk_attr, sk_attr) = query.index.attrs();
        let mut e = Expr::new();
        let (pk_name, pk_value) = (e.name(pk_attr), e.value(AttributeValue::S(query.pk.clone())));
        let mut key_cond = format!("{pk_name} = {pk_value}");
        if let Some(sk_cond) = sort_key_cond(&mut e, sk_attr, &query.sk) {
            key_cond = format!("{key_cond} AND {sk_cond}");
        }
        let limit = query.limit.map(|l| l.clamp(1, i32::MAX as usize) as i32);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.name().map(str::to_string))
            .key_condition_expression(key_cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(query.forward)
            .set_limit(limit)
            .set_exclusive_start_key(query.start.as_ref().map(|start| start_key(query.index, start)))
            // GSIs cannot be read consistently; the table can.
            .set_consistent_read(query.index.name().is_none().then_some(true))
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(QueryPage {
            items: out.items().iter().map(from_attrs).filter(|item| is_live(item, now)).collect(),
            next: out.last_evaluated_key().map(from_attrs),
        })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        if ops.is_empty() || ops.len() > MAX_TX_OPS {
            return Err(StoreError::Invalid(format!("a transaction takes 1..={MAX_TX_OPS} operations")));
        }
        let mut conflicts = 0u32;
        let mut attempt = 0;
        while attempt <= EXPIRED_RETRIES {
            let now = self.now();
            let items = ops.iter().map(|op| self.tx_item(op, now)).collect::<StoreResult<Vec<_>>>()?;
            let err = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => return Ok(()),
                Err(err) if only_conflicts(&err) && conflicts < CONFLICT_RETRIES => {
                    // Another transaction held one of the items (a shared
                    // counter shard): nothing was applied; send it again.
                    conflicts += 1;
                    let pause = 10u64 << conflicts;
                    tokio::time::sleep(std::time::Duration::from_millis(pause + rand::random::<u64>() % pause)).await;
                    continue;
                }
                Err(err) => tx_error(&err),
            };
            attempt += 1;
            // An update may have failed only because an expired item was in its way.
            if let StoreError::TransactionCanceled { failed } = &err
                && attempt <= EXPIRED_RETRIES
            {
                let mut purged = false;
                for index in failed {
                    if let Some(TxOp::Update { key, .. }) = ops.get(*index) {
                        purged |= self.purge_if_expired(key).await?;
                    }
                }
                if purged {
                    continue;
                }
            }
            return Err(err);
        }
        Err(StoreError::TransactionCanceled { failed: Vec::new() })
    }

    async fn check(&self) -> StoreResult<()> {
        self.client.describe_table().table_name(&self.table).send().await.map_err(|e| map_err(&e))?;
        Ok(())
    }
}

/// An update's condition: the caller's, and never over an expired item.
fn update_guard(e: &mut Expr, cond: Option<&Cond>, now: i64) -> String {
    match cond {
        Some(c) => {
            let c = e.cond(c, now);
            format!("{c} AND {}", e.not_expired(now))
        }
        None => e.not_expired(now),
    }
}

fn sort_key_cond(e: &mut Expr, sk_attr: &str, sk: &SortKey) -> Option<String> {
    if *sk == SortKey::Any {
        return None;
    }
    let name = e.name(sk_attr);
    let mut value = |v: &str| e.value(AttributeValue::S(v.to_string()));
    Some(match sk {
        SortKey::Any => return None, // handled above: no placeholder may go unused
        SortKey::Eq(v) => format!("{name} = {}", value(v)),
        SortKey::Lt(v) => format!("{name} < {}", value(v)),
        SortKey::Le(v) => format!("{name} <= {}", value(v)),
        SortKey::Gt(v) => format!("{name} > {}", value(v)),
        SortKey::Ge(v) => format!("{name} >= {}", value(v)),
        SortKey::BeginsWith(v) => format!("begins_with({name}, {})", value(v)),
        SortKey::Between(a, b) => format!("{name} BETWEEN {} AND {}", value(a), value(b)),
    })
}

/// The key attributes of a start item (DynamoDB refuses any other attribute in it).
fn start_key(index: Index, start: &Item) -> Attrs {
    let (pk, sk) = index.attrs();
    let wanted = [PK, SK, pk, sk];
    start.iter().filter(|(name, _)| wanted.contains(&name.as_str())).map(|(k, v)| (k.clone(), to_attr(v))).collect()
}

fn require_key(item: &Item) -> StoreResult<Key> {
    Key::of(item).ok_or_else(|| StoreError::Invalid("an item needs string pk and sk".into()))
}

fn key_item(key: &Key) -> Item {
    from_attrs(&key_attrs(key))
}

fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("ConditionalCheckFailedException")
}

fn map_err<E, R>(err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_condition_failed(err) { StoreError::ConditionFailed } else { sdk_error(SERVICE, err) }
}

/// Times a transaction cancelled only by conflicts with other transactions
/// (nothing applied, no condition failed) is sent again before the caller
/// sees it as cancelled.
const CONFLICT_RETRIES: u32 = 4;

/// Whether `err` is a cancellation by transaction conflicts alone.
fn only_conflicts<R: std::fmt::Debug>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) = err.as_service_error() else {
        return false;
    };
    let mut codes: Vec<String> =
        cancel.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect();
    if codes.is_empty() {
        codes = reasons_in_message(cancel.message().unwrap_or_default());
    }
    codes.iter().any(|c| c == "TransactionConflict") && codes.iter().all(|c| c == "TransactionConflict" || c == "None")
}

/// TransactionCanceledException → the indexes whose condition failed.
fn tx_error<R: std::fmt::Debug>(err: &SdkError<TransactWriteItemsError, R>) -> StoreError {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) = err.as_service_error() else {
        return map_err(err);
    };
    let mut codes: Vec<String> =
        cancel.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect();
    if codes.is_empty() {
        // Some emulators only list the reasons in the message: "... [None, ConditionalCheckFailed]".
        codes = reasons_in_message(cancel.message().unwrap_or_default());
    }
    if codes.iter().any(|c| c == "ValidationError") {
        return StoreError::Invalid(describe(SERVICE, err));
    }
    let failed = codes.iter().enumerate().filter(|(_, c)| c.as_str() == "ConditionalCheckFailed").map(|(i, _)| i);
    StoreError::TransactionCanceled { failed: failed.collect() }
}

fn reasons_in_message(message: &str) -> Vec<String> {
    let Some(start) = message.rfind('[') else { return Vec::new() };
    let Some(end) = message[start..].find(']') else { return Vec::new() };
    message[start + 1..start + end].split(',').map(|s| s.trim().to_string()).collect()
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("{SERVICE}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_reasons_are_read_from_the_message() {
        let m = "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]";
        assert_eq!(reasons_in_message(m), vec!["None", "ConditionalCheckFailed"]);
        assert!(reasons_in_message("no list").is_empty());
    }
}
