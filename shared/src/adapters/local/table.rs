//! The item table on redb, with DynamoDB's semantics (see `ports::table`).
//!
//! Keys are byte strings `pk \0 sk` (and `gpk \0 gsk \0 pk \0 sk` in the GSI
//! tables): with NUL forbidden inside key attributes, byte order of the joined
//! key is exactly DynamoDB's (partition, sort) order, so one range function
//! serves every index and sort-key condition.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde_json::{Map, Value};

use super::store::{GSI1, GSI2, ITEMS, LocalStore, TxError, unavailable};
use crate::clock::Clock;
use crate::ports::table::{
    Cond, Index, Item, ItemTable, Key, MAX_ITEM_BYTES, MAX_TX_OPS, PK, Query, QueryPage, SK, SortKey, TTL, TxOp, Update,
};
use crate::ports::{StoreError, StoreResult};

pub struct LocalTable {
    store: Arc<LocalStore>,
    clock: Arc<dyn Clock>,
}

impl LocalTable {
    pub fn new(store: Arc<LocalStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Runs a write transaction; answers once it is durable (see `store`).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTransaction, i64) -> Result<T, TxError> + Send + 'static,
    ) -> StoreResult<T> {
        let now = self.clock.epoch_seconds();
        self.store.write(move |txn| f(txn, now)).await
    }

    fn read_item(&self, key: &[u8]) -> StoreResult<Option<Item>> {
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        let table = txn.open_table(ITEMS).map_err(|e| unavailable("open table", e))?;
        let found = table.get(key).map_err(|e| unavailable("get", e))?;
        let now = self.clock.epoch_seconds();
        Ok(found.and_then(|v| decode(v.value())).filter(|item| live(item, now)))
    }
}

#[async_trait]
impl ItemTable for LocalTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.read_item(&primary_key(&key.pk, &key.sk)?)
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        if keys.len() > 100 {
            return Err(StoreError::Invalid("batch_get takes at most 100 keys".into()));
        }
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(item) = self.get(key).await? {
                items.push(item);
            }
        }
        Ok(items)
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        let key = Key::of(&item).ok_or_else(|| StoreError::Invalid("an item needs string pk and sk".into()))?;
        validate_item(&item)?;
        self.write(move |txn, now| {
            let old = load(txn, &key, now)?;
            check(cond.as_ref(), old.as_ref())?;
            store_item(txn, old.as_ref(), Some(&item))
        })
        .await
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        let key = key.clone();
        primary_key(&key.pk, &key.sk)?;
        self.write(move |txn, now| {
            let old = load(txn, &key, now)?;
            check(cond.as_ref(), old.as_ref())?;
            let new = apply(&key, old.as_ref(), &update)?;
            store_item(txn, old.as_ref(), Some(&new))?;
            Ok(new)
        })
        .await
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<Option<Item>> {
        let key = key.clone();
        primary_key(&key.pk, &key.sk)?;
        self.write(move |txn, now| {
            let old = load(txn, &key, now)?;
            check(cond.as_ref(), old.as_ref())?;
            if old.is_some() {
                store_item(txn, old.as_ref(), None)?;
            } else {
                // An expired item may still be stored: remove it for good.
                txn.open_table(ITEMS)?.remove(primary_key(&key.pk, &key.sk)?.as_slice())?;
            }
            Ok(old)
        })
        .await
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        let (lower, upper) = bounds(query)?;
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        let items = txn.open_table(ITEMS).map_err(|e| unavailable("open table", e))?;
        let index = match query.index {
            Index::Primary => None,
            Index::Gsi1 => Some(txn.open_table(GSI1).map_err(|e| unavailable("open index", e))?),
            Index::Gsi2 => Some(txn.open_table(GSI2).map_err(|e| unavailable("open index", e))?),
        };
        let source = index.as_ref().unwrap_or(&items);
        let range = source.range::<&[u8]>((as_bound(&lower), as_bound(&upper))).map_err(|e| unavailable("range", e))?;
        let now = self.clock.epoch_seconds();
        let limit = query.limit.unwrap_or(usize::MAX).max(1);
        let mut page = QueryPage::default();
        let entries: Box<dyn Iterator<Item = _>> = if query.forward { Box::new(range) } else { Box::new(range.rev()) };
        for entry in entries {
            let (_, value) = entry.map_err(|e| unavailable("range", e))?;
            let item = if index.is_some() {
                let found = items.get(value.value()).map_err(|e| unavailable("get", e))?;
                found.and_then(|v| decode(v.value()))
            } else {
                decode(value.value())
            };
            let Some(item) = item.filter(|item| live(item, now)) else { continue };
            if page.items.len() == limit {
                page.next = page.items.last().map(|last| cursor_of(query.index, last));
                break;
            }
            page.items.push(item);
        }
        Ok(page)
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        if ops.is_empty() || ops.len() > MAX_TX_OPS {
            return Err(StoreError::Invalid(format!("a transaction takes 1..={MAX_TX_OPS} operations")));
        }
        let mut seen = std::collections::HashSet::new();
        for op in &ops {
            let key = match op {
                TxOp::Put { item, .. } => {
                    validate_item(item)?;
                    Key::of(item).ok_or_else(|| StoreError::Invalid("an item needs string pk and sk".into()))?
                }
                TxOp::Update { key, .. } | TxOp::Delete { key, .. } | TxOp::Check { key, .. } => key.clone(),
            };
            primary_key(&key.pk, &key.sk)?;
            if !seen.insert(key) {
                return Err(StoreError::Invalid("a transaction may touch each item once".into()));
            }
        }
        self.write(move |txn, now| {
            // Check every condition first, so a failure writes nothing.
            let mut olds = Vec::with_capacity(ops.len());
            let mut failed = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                let (key, cond) = match op {
                    TxOp::Put { item, cond } => (Key::of(item).unwrap_or_else(|| Key::new("", "")), cond.clone()),
                    TxOp::Update { key, cond, .. } | TxOp::Delete { key, cond } => (key.clone(), cond.clone()),
                    TxOp::Check { key, cond } => (key.clone(), Some(cond.clone())),
                };
                let old = load(txn, &key, now)?;
                if !cond.as_ref().is_none_or(|c| eval(c, old.as_ref())) {
                    failed.push(i);
                }
                olds.push((key, old));
            }
            if !failed.is_empty() {
                return Err(StoreError::TransactionCanceled { failed }.into());
            }
            for (op, (key, old)) in ops.iter().zip(olds) {
                match op {
                    TxOp::Put { item, .. } => store_item(txn, old.as_ref(), Some(item))?,
                    TxOp::Update { update, .. } => {
                        let new = apply(&key, old.as_ref(), update)?;
                        store_item(txn, old.as_ref(), Some(&new))?
                    }
                    TxOp::Delete { .. } => store_item(txn, old.as_ref(), None)?,
                    TxOp::Check { .. } => {}
                }
            }
            Ok(())
        })
        .await
    }

    async fn check(&self) -> StoreResult<()> {
        let txn = self.store.db().begin_read().map_err(|e| unavailable("begin read", e))?;
        txn.open_table(ITEMS).map_err(|e| unavailable("open table", e))?;
        Ok(())
    }
}

// ---- keys -----------------------------------------------------------------

fn join(parts: &[&str]) -> StoreResult<Vec<u8>> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || part.len() > 2048 || part.contains('\0') {
            return Err(StoreError::Invalid("key attributes must be 1..=2048 bytes without NUL".into()));
        }
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(part.as_bytes());
    }
    Ok(out)
}

fn primary_key(pk: &str, sk: &str) -> StoreResult<Vec<u8>> {
    join(&[pk, sk])
}

fn index_key(index: Index, item: &Item) -> Option<Vec<u8>> {
    let (pk_attr, sk_attr) = index.attrs();
    let gpk = item.get(pk_attr)?.as_str()?;
    let gsk = item.get(sk_attr)?.as_str()?;
    join(&[gpk, gsk, item.get(PK)?.as_str()?, item.get(SK)?.as_str()?]).ok()
}

/// The first key after every key that starts with `prefix`.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < u8::MAX {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

fn with(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
    [prefix, tail].concat()
}

/// The byte range of a query, after its start key.
/// A range of joined keys.
type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

fn bounds(query: &Query) -> StoreResult<KeyRange> {
    use Bound::{Excluded, Included, Unbounded};
    let mut p = join(&[&query.pk])?;
    p.push(0);
    let part_end = successor(&p).map_or(Unbounded, Excluded);
    let sk = |v: &str| -> StoreResult<Vec<u8>> {
        if v.contains('\0') {
            return Err(StoreError::Invalid("sort key conditions must not contain NUL".into()));
        }
        Ok(with(&p, v.as_bytes()))
    };
    // Every key whose sort key equals v lies in [p v, p v \x01).
    let after = |v: &str| -> StoreResult<Vec<u8>> { Ok(with(&sk(v)?, &[1])) };
    let (mut lower, mut upper) = match &query.sk {
        SortKey::Any => (Included(p.clone()), part_end),
        SortKey::Eq(v) => (Included(sk(v)?), Excluded(after(v)?)),
        SortKey::BeginsWith(v) => (Included(sk(v)?), successor(&sk(v)?).map_or(Unbounded, Excluded)),
        SortKey::Between(a, b) => (Included(sk(a)?), Excluded(after(b)?)),
        SortKey::Lt(v) => (Included(p.clone()), Excluded(sk(v)?)),
        SortKey::Le(v) => (Included(p.clone()), Excluded(after(v)?)),
        SortKey::Gt(v) => (Included(after(v)?), part_end),
        SortKey::Ge(v) => (Included(sk(v)?), part_end),
    };
    if let Some(start) = &query.start {
        let start_key = start_key(query, start)?;
        if query.forward {
            lower = Excluded(start_key);
        } else {
            upper = Excluded(start_key);
        }
    }
    Ok((lower, upper))
}

fn start_key(query: &Query, start: &Item) -> StoreResult<Vec<u8>> {
    let bad = || StoreError::Invalid("the start key does not belong to this query".into());
    let (pk_attr, _) = query.index.attrs();
    if start.get(pk_attr).and_then(Value::as_str) != Some(query.pk.as_str()) {
        return Err(bad());
    }
    match query.index {
        Index::Primary => {
            let key = Key::of(start).ok_or_else(bad)?;
            primary_key(&key.pk, &key.sk)
        }
        index => index_key(index, start).ok_or_else(bad),
    }
}

fn cursor_of(index: Index, item: &Item) -> Item {
    let (a, b) = index.attrs();
    let mut cursor = Map::new();
    for attr in [PK, SK, a, b] {
        if let Some(v) = item.get(attr) {
            cursor.insert(attr.to_string(), v.clone());
        }
    }
    cursor
}

fn as_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

// ---- items ----------------------------------------------------------------

fn decode(bytes: &[u8]) -> Option<Item> {
    serde_json::from_slice(bytes).ok()
}

fn live(item: &Item, now: i64) -> bool {
    match item.get(TTL).and_then(Value::as_f64) {
        Some(ttl) => ttl > now as f64,
        None => true,
    }
}

fn validate_item(item: &Item) -> StoreResult<()> {
    let size = serde_json::to_vec(item).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!("item is {size} bytes, over the {MAX_ITEM_BYTES} limit")));
    }
    for index in [Index::Gsi1, Index::Gsi2] {
        let (a, b) = index.attrs();
        for attr in [a, b] {
            if let Some(v) = item.get(attr)
                && !v.as_str().is_some_and(|s| !s.is_empty() && !s.contains('\0'))
            {
                return Err(StoreError::Invalid(format!("{attr} must be a non-empty string")));
            }
        }
    }
    Ok(())
}

/// The stored item under `key`, when it exists and has not expired.
fn load(txn: &WriteTransaction, key: &Key, now: i64) -> Result<Option<Item>, TxError> {
    let table = txn.open_table(ITEMS)?;
    let found = table.get(primary_key(&key.pk, &key.sk)?.as_slice())?;
    Ok(found.and_then(|v| decode(v.value())).filter(|item| live(item, now)))
}

/// Replaces `old` by `new` (or removes it), keeping both GSIs in step.
fn store_item(txn: &WriteTransaction, old: Option<&Item>, new: Option<&Item>) -> Result<(), TxError> {
    for (index, def) in [(Index::Gsi1, GSI1), (Index::Gsi2, GSI2)] {
        reindex(txn, def, old.and_then(|o| index_key(index, o)), new.and_then(|n| index_key(index, n)))?;
    }
    let mut items = txn.open_table(ITEMS)?;
    match new {
        Some(item) => {
            let key = Key::of(item).ok_or_else(|| StoreError::Invalid("an item needs string pk and sk".into()))?;
            let bytes = serde_json::to_vec(item).map_err(|e| StoreError::Invalid(e.to_string()))?;
            items.insert(primary_key(&key.pk, &key.sk)?.as_slice(), bytes.as_slice())?;
        }
        None => {
            if let Some(key) = old.and_then(Key::of) {
                items.remove(primary_key(&key.pk, &key.sk)?.as_slice())?;
            }
        }
    }
    Ok(())
}

fn reindex(
    txn: &WriteTransaction,
    def: TableDefinition<&[u8], &[u8]>,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
) -> Result<(), TxError> {
    if old == new {
        return Ok(());
    }
    let mut table = txn.open_table(def)?;
    if let Some(old) = old {
        table.remove(old.as_slice())?;
    }
    if let Some(new) = new {
        // The value is the item's primary key: the part after the index key.
        let primary_start = new.iter().enumerate().filter(|(_, b)| **b == 0).nth(1).map_or(0, |(i, _)| i + 1);
        table.insert(new.as_slice(), &new[primary_start..])?;
    }
    Ok(())
}

fn apply(key: &Key, old: Option<&Item>, update: &Update) -> Result<Item, TxError> {
    let mut item = old.cloned().unwrap_or_default();
    item.insert(PK.into(), Value::String(key.pk.clone()));
    item.insert(SK.into(), Value::String(key.sk.clone()));
    for (attr, value) in &update.set {
        guard_key_attr(attr)?;
        item.insert(attr.clone(), value.clone());
    }
    for (attr, value) in &update.set_if_absent {
        guard_key_attr(attr)?;
        item.entry(attr.clone()).or_insert_with(|| value.clone());
    }
    for (attr, by) in &update.add {
        guard_key_attr(attr)?;
        let current = match item.get(attr) {
            None => 0,
            Some(v) => v.as_i64().ok_or_else(|| StoreError::Invalid(format!("{attr} is not an integer")))?,
        };
        let sum = current.checked_add(*by).ok_or_else(|| StoreError::Invalid(format!("{attr} overflows")))?;
        item.insert(attr.clone(), Value::from(sum));
    }
    for attr in &update.remove {
        guard_key_attr(attr)?;
        item.remove(attr);
    }
    validate_item(&item)?;
    Ok(item)
}

fn guard_key_attr(attr: &str) -> Result<(), TxError> {
    if attr == PK || attr == SK {
        return Err(StoreError::Invalid("the key attributes cannot be updated".into()).into());
    }
    Ok(())
}

// ---- conditions -----------------------------------------------------------

fn check(cond: Option<&Cond>, item: Option<&Item>) -> Result<(), TxError> {
    match cond {
        Some(c) if !eval(c, item) => Err(StoreError::ConditionFailed.into()),
        _ => Ok(()),
    }
}

/// Evaluates a condition against the current item (None: absent or expired).
pub(crate) fn eval(cond: &Cond, item: Option<&Item>) -> bool {
    let attr = |name: &str| item.and_then(|i| i.get(name));
    let cmp = |name: &str, v: &Value, want: &[Ordering]| compare(attr(name), v).is_some_and(|o| want.contains(&o));
    match cond {
        Cond::Exists => item.is_some(),
        Cond::NotExists => item.is_none(),
        Cond::AttrExists(name) => attr(name).is_some(),
        Cond::AttrNotExists(name) => attr(name).is_none(),
        Cond::Eq(name, v) => cmp(name, v, &[Ordering::Equal]) || attr(name).is_some_and(|a| a == v),
        Cond::Ne(name, v) => !(cmp(name, v, &[Ordering::Equal]) || attr(name).is_some_and(|a| a == v)),
        Cond::Lt(name, v) => cmp(name, v, &[Ordering::Less]),
        Cond::Le(name, v) => cmp(name, v, &[Ordering::Less, Ordering::Equal]),
        Cond::Gt(name, v) => cmp(name, v, &[Ordering::Greater]),
        Cond::Ge(name, v) => cmp(name, v, &[Ordering::Greater, Ordering::Equal]),
        Cond::And(all) => all.iter().all(|c| eval(c, item)),
        Cond::Or(any) => any.iter().any(|c| eval(c, item)),
    }
}

/// DynamoDB ordering: numbers numerically, strings by bytes, nothing else.
fn compare(a: Option<&Value>, b: &Value) -> Option<Ordering> {
    match (a?, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_keys_sort_like_tuples() {
        let a = primary_key("USER#a", "z").unwrap();
        let b = primary_key("USER#ab", "a").unwrap();
        assert!(a < b, "(\"USER#a\", _) sorts before (\"USER#ab\", _)");
        assert!(primary_key("p", "ab").unwrap() > primary_key("p", "a").unwrap());
        assert!(primary_key("p", "a\u{1}").is_ok());
        assert!(primary_key("p", "a\0b").is_err());
        assert!(primary_key("", "a").is_err());
    }

    #[test]
    fn successor_of_a_prefix() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(successor(&[0xff]), None);
    }
}
