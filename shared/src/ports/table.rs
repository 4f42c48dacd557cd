//! The item table: a DynamoDB-shaped store (one table, string keys, two GSIs,
//! a TTL attribute). Items are JSON objects; the key attributes are ordinary
//! string attributes named by the constants below. Key strings are built only
//! by `crate::keys`.

use async_trait::async_trait;
use serde_json::Value;

use super::StoreResult;

pub type Item = serde_json::Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// Epoch seconds after which the item no longer exists for readers.
/// Expired items are filtered on read and treated as absent by conditions
/// and updates, on every adapter (DynamoDB deletes them late, emulators never).
pub const TTL: &str = "ttl";

/// The largest item either adapter accepts (DynamoDB's limit).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    /// The key of an item, when it carries both key attributes as strings.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get(PK)?.as_str()?, item.get(SK)?.as_str()?))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The (partition, sort) attribute names of this index.
    pub fn attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => (PK, SK),
            Index::Gsi1 => (GSI1_PK, GSI1_SK),
            Index::Gsi2 => (GSI2_PK, GSI2_SK),
        }
    }

    /// The DynamoDB index name (None for the table itself).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A condition on the sort key of a query.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKey {
    Any,
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends, as DynamoDB's BETWEEN.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SortKey,
    /// Ascending by sort key when true.
    pub forward: bool,
    /// At most this many items (the page may hold fewer and still have `next`).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub start: Option<Item>,
}

impl Query {
    pub fn partition(index: Index, pk: impl Into<String>) -> Self {
        Self { index, pk: pk.into(), sk: SortKey::Any, forward: true, limit: None, start: None }
    }
    pub fn sk(mut self, sk: SortKey) -> Self {
        self.sk = sk;
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
    pub fn start(mut self, start: Option<Item>) -> Self {
        self.start = start;
        self
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryPage {
    pub items: Vec<Item>,
    /// Where the next page starts (DynamoDB's LastEvaluatedKey): the base key
    /// attributes plus, for a GSI, the index's key attributes.
    pub next: Option<Item>,
}

/// A condition on one item, evaluated atomically with the write.
/// Comparisons follow DynamoDB: numbers numerically, strings by UTF-8 bytes,
/// a missing attribute or a type mismatch makes a comparison false.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// The item exists (and has not expired).
    Exists,
    /// The item does not exist (or has expired).
    NotExists,
    AttrExists(String),
    AttrNotExists(String),
    Eq(String, Value),
    Ne(String, Value),
    Lt(String, Value),
    Le(String, Value),
    Gt(String, Value),
    Ge(String, Value),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    pub fn eq(attr: &str, value: impl Into<Value>) -> Self {
        Cond::Eq(attr.to_string(), value.into())
    }
}

/// An update of top-level attributes. Like DynamoDB's UpdateItem it creates
/// the item when it does not exist (add a `Cond::Exists` to forbid that).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    /// Set only when the attribute is absent (`if_not_exists`).
    pub set_if_absent: Vec<(String, Value)>,
    /// Atomic numeric add (a missing attribute counts as 0).
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set.push((attr.to_string(), value.into()));
        self
    }
    pub fn set_if_absent(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set_if_absent.push((attr.to_string(), value.into()));
        self
    }
    pub fn add(mut self, attr: &str, by: i64) -> Self {
        self.add.push((attr.to_string(), by));
        self
    }
    pub fn remove(mut self, attr: &str) -> Self {
        self.remove.push(attr.to_string());
        self
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.set_if_absent.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// One operation of an all-or-nothing transaction (at most 100, each key once).
#[derive(Clone, Debug, PartialEq)]
pub enum TxOp {
    Put { item: Item, cond: Option<Cond> },
    Update { key: Key, update: Update, cond: Option<Cond> },
    Delete { key: Key, cond: Option<Cond> },
    Check { key: Key, cond: Cond },
}

pub const MAX_TX_OPS: usize = 100;

#[async_trait]
pub trait ItemTable: Send + Sync {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;
    /// The items that exist among `keys` (at most 100), in no particular order.
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>>;
    /// Puts a whole item (it must carry `pk` and `sk`).
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()>;
    /// Applies `update` and returns the item as it is afterwards.
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item>;
    /// Deletes and returns the old item (None when there was none).
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<Option<Item>>;
    async fn query(&self, query: &Query) -> StoreResult<QueryPage>;
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()>;
    /// A cheap round trip for health checks.
    async fn check(&self) -> StoreResult<()>;
}

/// The most keys of one `batch_get` (DynamoDB's `BatchGetItem` limit).
pub const MAX_BATCH_GET: usize = 100;

/// The items that exist among `keys` (any number; each key read once), in
/// no particular order: one `batch_get` per [`MAX_BATCH_GET`] keys, all at
/// once, so any number of keys costs one round trip.
pub async fn get_all(table: &dyn ItemTable, keys: &[Key]) -> StoreResult<Vec<Item>> {
    let mut unique = keys.to_vec();
    unique.sort();
    unique.dedup();
    let reads = unique.chunks(MAX_BATCH_GET).map(|chunk| table.batch_get(chunk));
    Ok(futures::future::try_join_all(reads).await?.into_iter().flatten().collect())
}

/// Every item `query` finds, page after page, at most `cap` (a query that
/// must see a whole partition: an owner's shares, a day range).
pub async fn query_all(table: &dyn ItemTable, mut query: Query, cap: usize) -> StoreResult<Vec<Item>> {
    let mut out = Vec::new();
    loop {
        let page = table.query(&query).await?;
        out.extend(page.items);
        match page.next {
            Some(next) if out.len() < cap => query = query.start(Some(next)),
            _ => break,
        }
    }
    out.truncate(cap);
    Ok(out)
}
