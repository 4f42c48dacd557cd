//! Scenarios in the table: the stored (and served) [`Scenario`], and the
//! reads and writes the generation, history and account routes need. The key
//! design and its access patterns are in [`crate::keys`] (scenario section):
//!
//! - the item: `USER#<owner>` / `SCN#<id>`, written once with a condition (never overwritten);
//! - by id: GSI1 `SCN#<id>` / `SCN`;
//! - a whole branch tree: GSI2 `TREE#<rootId>` / `<depth>#<id>` (one query, root first);
//! - the regenerate chain: `versionOf`, walked back on the owner's partition.
//!
//! GSI reads are eventually consistent on DynamoDB: when the owner is known
//! (continue, regenerate) the item is read from its base key instead.

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::credits::{self, Charge, ChargeFailure, RefKind};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ScenarioId, UserId};
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{
    Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, Key, PK, Query, SK, SortKey, TxOp, Update,
};
use crate::routes::Access;
use crate::social;
use crate::stats;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::types::{Choice, Language, Length, PromptType, Section, TokenUsage};

/// The attribute that holds the owner's id (never served).
const OWNER: &str = "userId";

/// The most nodes one tree may hold (continuations stop there).
pub const MAX_TREE_NODES: usize = 500;
/// The most versions walked back along `versionOf`.
pub const MAX_VERSIONS: usize = 100;

/// A scenario as stored and served (API.md, Generation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scenario {
    pub id: String,
    /// The owner; empty for an anonymous (unsaved) scenario. Never served.
    #[serde(skip)]
    #[schemars(skip)]
    pub owner_id: String,
    pub topic: String,
    pub title: String,
    pub summary: String,
    /// Markdown: one `##` heading and its body per section (empty in a history entry).
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub sections: Vec<Section>,
    /// What could happen next (continue with a choice's id).
    #[serde(default)]
    pub choices: Vec<Choice>,
    pub prompt_type: PromptType,
    #[schemars(with = "String")]
    pub language: Language,
    pub length: Length,
    #[serde(default)]
    pub tone: Option<String>,
    /// The provider that wrote it (`openai`, ..., `offline`).
    pub provider: String,
    pub model: String,
    pub tokens: TokenUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The scenario this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The root of its branch tree (its own id for a root).
    pub root_id: String,
    /// 0 for a root, the parent's depth + 1 for a continuation.
    pub depth: u32,
    /// The scenario this one regenerates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_of: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub is_favorite: bool,
    /// 1–5 from the owner; null until rated.
    #[serde(default)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub view_count: u64,
    #[serde(default)]
    pub share_count: u64,
    /// Hidden by a moderator: gone for everyone but its owner, its shares and
    /// their previews included. Never set by its owner.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_hidden: bool,
    pub prompt_version: String,
    /// Bumped by every change; edits are conditional on it (`If-Match`).
    /// Like `tags`, `isFavorite` and `rating`, shown to the owner only.
    #[serde(default)]
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// When its owner deleted it (restorable for 30 days); a deleted scenario
    /// is gone for every read but restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// When it first became public: its place in the feeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
}

/// The fields only a scenario's owner is shown (its notes on it, and the
/// version its edits are conditional on).
pub const OWNER_NOTES: [&str; 4] = ["rating", "isFavorite", "tags", "version"];

/// The fields a history listing leaves out (the scenario's text).
pub const TEXT_FIELDS: [&str; 3] = ["content", "sections", "choices"];

/// What the history keeps of a scenario to filter, sort and count it (about
/// 200 bytes, so a whole history of thousands reads fast): one item per
/// scenario, `HIST#<owner>` / `<id>`, written with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub id: String,
    pub prompt_type: PromptType,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub is_favorite: bool,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub view_count: u64,
    #[serde(default)]
    pub share_count: u64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

impl HistoryEntry {
    pub fn of(s: &Scenario) -> Self {
        HistoryEntry {
            id: s.id.clone(),
            prompt_type: s.prompt_type,
            tags: s.tags.clone(),
            is_favorite: s.is_favorite,
            is_public: s.is_public,
            rating: s.rating,
            view_count: s.view_count,
            share_count: s.share_count,
            created_at: s.created_at.clone(),
            updated_at: s.updated_at.clone(),
            deleted_at: s.deleted_at.clone(),
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    fn fields(&self) -> ApiResult<Item> {
        match serde_json::to_value(self).map_err(ApiError::internal)? {
            Value::Object(item) => Ok(item),
            _ => Err(ApiError::internal("a history entry does not serialise to an object")),
        }
    }
}
/// Counters: changed only by atomic `ADD` ([`add_to_counter`]), never by an edit.
const COUNTERS: [&str; 2] = ["viewCount", "shareCount"];

/// A scenario's counters.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Views by others than the owner, once per viewer and day.
    Views,
    /// Share links made of it.
    Shares,
}

/// The operations that add one to a counter of the owner's scenario `id`, on
/// the scenario and on its history entry and search item (each must exist),
/// for a transaction with what is being counted.
pub fn add_to_counter(owner: &UserId, id: &ScenarioId, counter: Counter) -> Vec<TxOp> {
    let attr = match counter {
        Counter::Views => COUNTERS[0],
        Counter::Shares => COUNTERS[1],
    };
    [keys::scenario(owner, id), keys::scenario_summary(owner, id), keys::scenario_terms(owner, id)]
        .into_iter()
        .map(|key| TxOp::Update { key, update: Update::new().add(attr, 1), cond: Some(Cond::Exists) })
        .collect()
}

impl Scenario {
    /// The item: the scenario's fields, the owner, and its keys.
    pub fn to_item(&self) -> ApiResult<Item> {
        if self.owner_id.is_empty() {
            return Err(ApiError::internal("an anonymous scenario cannot be stored"));
        }
        let Value::Object(mut item) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("a scenario does not serialise to an object"));
        };
        let (owner, id) = (self.owner(), self.scenario_id());
        let key = keys::scenario(&owner, &id);
        let (g1pk, g1sk) = keys::scenario_by_id(&id);
        let (g2pk, g2sk) = keys::scenario_tree_node(&self.root(), self.depth, &id);
        for (attr, value) in [
            (PK, key.pk),
            (SK, key.sk),
            (GSI1_PK, g1pk),
            (GSI1_SK, g1sk),
            (GSI2_PK, g2pk),
            (GSI2_SK, g2sk),
            (OWNER, self.owner_id.clone()),
        ] {
            item.insert(attr.to_string(), Value::String(value));
        }
        Ok(item)
    }

    /// Reads an item written by [`Scenario::to_item`].
    pub fn from_item(item: Item) -> ApiResult<Self> {
        let owner = item.get(OWNER).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut scenario: Scenario = serde_json::from_value(Value::Object(item))
            .map_err(|e| ApiError::internal(format!("a stored scenario does not read: {e}")))?;
        scenario.owner_id = owner;
        Ok(scenario)
    }

    /// Its history entry item, keyed for the owner's history.
    pub fn entry_item(&self) -> ApiResult<Item> {
        let mut item = HistoryEntry::of(self).fields()?;
        let key = keys::scenario_summary(&self.owner(), &self.scenario_id());
        item.insert(PK.into(), key.pk.into());
        item.insert(SK.into(), key.sk.into());
        Ok(item)
    }

    /// Its search item: the scenario without its text (what a listing shows,
    /// which holds its history entry) and its search terms, so a search reads
    /// one partition and nothing after it.
    pub fn terms_item(&self) -> ApiResult<Item> {
        let mut item = self.terms_fields()?;
        let key = keys::scenario_terms(&self.owner(), &self.scenario_id());
        item.insert(PK.into(), key.pk.into());
        item.insert(SK.into(), key.sk.into());
        Ok(item)
    }

    fn terms_fields(&self) -> ApiResult<Item> {
        let mut item = self.fields()?;
        item.insert(TERMS.into(), self.search_terms().into());
        Ok(item)
    }

    /// The distinct folded words (lower case, no diacritics) of the title,
    /// topic, tags, summary and content, space-separated, in first-seen order.
    pub fn search_terms(&self) -> String {
        let mut seen = std::collections::HashSet::new();
        let texts = [&self.title, &self.topic, &self.summary, &self.content].into_iter().chain(self.tags.iter());
        let mut out = String::new();
        for word in texts.flat_map(|t| crate::text::words(t)) {
            if seen.insert(word.clone()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&word);
            }
        }
        out
    }

    /// The scenario's own attributes without its text (no keys).
    fn fields(&self) -> ApiResult<Item> {
        let Value::Object(mut item) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("a scenario does not serialise to an object"));
        };
        for field in TEXT_FIELDS {
            item.remove(field);
        }
        Ok(item)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Its id, typed for the keys (the store wrote it).
    pub fn scenario_id(&self) -> ScenarioId {
        ScenarioId::from_trusted(self.id.clone())
    }

    /// Its owner, typed for the keys (empty for an anonymous scenario).
    pub fn owner(&self) -> UserId {
        UserId::from_trusted(self.owner_id.clone())
    }

    /// The root of its tree, typed for the keys.
    pub fn root(&self) -> ScenarioId {
        ScenarioId::from_trusted(self.root_id.clone())
    }

    /// The scenario as `caller` sees it: everything for its owner; for anyone
    /// else (a public scenario) the story without the owner's notes
    /// (`OWNER_NOTES`: rating, favourite flag, tags, version).
    pub fn shown_to(&self, caller: Option<&UserId>) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if !self.is_owned_by(caller)
            && let Value::Object(fields) = &mut value
        {
            for name in OWNER_NOTES {
                fields.remove(name);
            }
        }
        value
    }

    /// The same without the owner's notes, as a value (for files a stranger exports).
    pub fn without_owner_notes(mut self) -> Self {
        self.rating = None;
        self.is_favorite = false;
        self.tags.clear();
        self
    }

    pub fn is_owned_by(&self, user_id: Option<&UserId>) -> bool {
        user_id.is_some_and(|u| !self.owner_id.is_empty() && *u == self.owner_id)
    }

    /// The owner, or anyone when public and not hidden by moderation;
    /// nobody once deleted.
    pub fn is_visible_to(&self, user_id: Option<&UserId>) -> bool {
        !self.is_deleted() && (self.is_owned_by(user_id) || (self.is_public && !self.is_hidden))
    }
}

/// The attribute of a terms item that holds the terms.
const TERMS: &str = "terms";

/// The items a new scenario writes, in one transaction: itself (never
/// overwriting), its history entry and its search terms, and one more on its
/// owner's scenario count.
fn new_scenario_ops(ctx: &AppContext, scenario: &Scenario) -> ApiResult<Vec<TxOp>> {
    Ok(vec![
        TxOp::Put { item: scenario.to_item()?, cond: Some(Cond::NotExists) },
        TxOp::Put { item: scenario.entry_item()?, cond: None },
        TxOp::Put { item: scenario.terms_item()?, cond: None },
        social::stats::add(&scenario.owner(), social::stats::Counter::Scenarios, 1),
        // The platform's counts, last (callers read the indexes above).
        stats::add_op(ctx, &[(stats::SCENARIOS_CREATED, 1), (stats::SCENARIOS_LIVE, 1)]),
    ])
}

fn exists_error() -> ApiError {
    ApiError::conflict("SCENARIO_EXISTS", "A scenario with this id already exists")
}

/// Saves a new scenario. Never overwrites: an id that exists is a conflict.
pub async fn save(ctx: &AppContext, scenario: &Scenario) -> ApiResult<()> {
    save_paid(ctx, scenario, None).await
}

/// [`save`], paying `charge` from the owner's credits in the same
/// transaction (402 when the balance cannot pay; nothing is saved then).
pub async fn save_paid(ctx: &AppContext, scenario: &Scenario, charge: Option<&Charge>) -> ApiResult<()> {
    let charges: Vec<Charge> = charge.into_iter().cloned().collect();
    match credits::transact_charged(
        ctx,
        &scenario.owner(),
        &charges,
        new_scenario_ops(ctx, scenario)?,
        RefKind::Scenario,
    )
    .await
    {
        Ok(()) => {
            social::stats::after_change(ctx, &scenario.owner()).await;
            Ok(())
        }
        Err(ChargeFailure::Store(StoreError::TransactionCanceled { failed })) if failed.contains(&0) => {
            Err(exists_error())
        }
        Err(e) => Err(e.into()),
    }
}

/// The attribute of a root that counts the nodes of its tree (never served).
const NODE_COUNT: &str = "nodeCount";

/// Saves a continuation and counts it on its tree's root, in one transaction,
/// so a tree never holds more than [`MAX_TREE_NODES`] (422 `TREE_FULL`). When
/// the root is gone (purged), the child is saved without the count.
pub async fn save_child(ctx: &AppContext, child: &Scenario) -> ApiResult<()> {
    save_child_paid(ctx, child, None).await
}

/// [`save_child`], paying `charge` in the same transaction.
pub async fn save_child_paid(ctx: &AppContext, child: &Scenario, charge: Option<&Charge>) -> ApiResult<()> {
    let root = keys::scenario(&child.owner(), &child.root());
    // The root itself is node 1, uncounted.
    let room = Cond::Or(vec![
        Cond::AttrNotExists(NODE_COUNT.into()),
        Cond::Lt(NODE_COUNT.into(), Value::from(MAX_TREE_NODES as u64 - 1)),
    ]);
    let mut ops = new_scenario_ops(ctx, child)?;
    ops.push(TxOp::Update {
        key: root.clone(),
        update: Update::new().add(NODE_COUNT, 1),
        cond: Some(Cond::And(vec![Cond::Exists, room])),
    });
    let count = ops.len() - 1;
    let charges: Vec<Charge> = charge.into_iter().cloned().collect();
    match credits::transact_charged(ctx, &child.owner(), &charges, ops, RefKind::Scenario).await {
        Ok(()) => {
            social::stats::after_change(ctx, &child.owner()).await;
            Ok(())
        }
        Err(ChargeFailure::Store(StoreError::TransactionCanceled { failed })) if failed.contains(&0) => {
            Err(exists_error())
        }
        Err(ChargeFailure::Store(StoreError::TransactionCanceled { failed })) if failed.contains(&count) => {
            match ctx.table.get(&root).await? {
                Some(_) => Err(ApiError::unprocessable(
                    "TREE_FULL",
                    format!("A story tree holds at most {MAX_TREE_NODES} scenarios"),
                )),
                None => save_paid(ctx, child, charge).await,
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The owner's scenario `id` (a strongly consistent read of its base key);
/// `None` when missing or deleted.
pub async fn get_owned(ctx: &AppContext, owner_id: &UserId, id: &ScenarioId) -> ApiResult<Option<Scenario>> {
    Ok(get_owned_even_deleted(ctx, owner_id, id).await?.filter(|s| !s.is_deleted()))
}

/// The owner's scenario `id`, deleted or not (restore, purge).
pub async fn get_owned_even_deleted(
    ctx: &AppContext,
    owner_id: &UserId,
    id: &ScenarioId,
) -> ApiResult<Option<Scenario>> {
    match ctx.table.get(&keys::scenario(owner_id, id)).await? {
        Some(item) => Scenario::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// Any scenario by id (GSI1), whoever owns it; `None` when missing or
/// deleted. Check visibility before serving it.
pub async fn get_by_id(ctx: &AppContext, id: &ScenarioId) -> ApiResult<Option<Scenario>> {
    let (pk, sk) = keys::scenario_by_id(id);
    let page = ctx.table.query(&Query::partition(Index::Gsi1, pk).sk(SortKey::Eq(sk)).limit(1)).await?;
    match page.items.into_iter().next() {
        Some(item) => Ok(Some(Scenario::from_item(item)?).filter(|s| !s.is_deleted())),
        None => Ok(None),
    }
}

/// The scenario `id` when `caller` may see it (owner, or public); 404 otherwise,
/// also when it exists but is another user's private one.
pub async fn get_visible(ctx: &AppContext, caller: Option<&UserId>, id: &ScenarioId) -> ApiResult<Scenario> {
    if let Some(user) = caller
        && let Some(own) = get_owned(ctx, user, id).await?
    {
        return Ok(own);
    }
    match get_by_id(ctx, id).await? {
        Some(s) if s.is_visible_to(caller) => Ok(s),
        _ => Err(ApiError::not_found("Scenario")),
    }
}

/// Every node of the tree rooted at `root_id`, by depth then age (the root
/// first), without the deleted ones.
pub async fn tree_nodes(ctx: &AppContext, root_id: &ScenarioId) -> ApiResult<Vec<Scenario>> {
    let nodes = query_all(ctx, Query::partition(Index::Gsi2, keys::scenario_tree(root_id))).await?;
    Ok(nodes.into_iter().filter(|n| !n.is_deleted()).collect())
}

/// The continuations of `node`, oldest first.
pub async fn children(ctx: &AppContext, node: &Scenario) -> ApiResult<Vec<Scenario>> {
    let query = Query::partition(Index::Gsi2, keys::scenario_tree(&node.root()))
        .sk(SortKey::BeginsWith(keys::scenario_tree_depth(node.depth + 1)));
    let nodes = query_all(ctx, query).await?;
    Ok(nodes.into_iter().filter(|n| n.parent_id.as_deref() == Some(node.id.as_str())).collect())
}

async fn query_all(ctx: &AppContext, query: Query) -> ApiResult<Vec<Scenario>> {
    read_all(ctx, query, MAX_TREE_NODES, Scenario::from_item).await
}

/// Every item `query` finds, page after page, read by `read`; at most `cap`.
async fn read_all<T>(
    ctx: &AppContext,
    query: Query,
    cap: usize,
    read: impl Fn(Item) -> ApiResult<T>,
) -> ApiResult<Vec<T>> {
    crate::ports::table::query_all(ctx.table.as_ref(), query, cap).await?.into_iter().map(read).collect()
}

/// The regenerate chain that ends at the owner's scenario `id`: oldest version
/// first, `id` last. Empty when the owner has no such scenario. A version that
/// is gone (deleted) ends the walk.
pub async fn version_chain(ctx: &AppContext, owner_id: &UserId, id: &ScenarioId) -> ApiResult<Vec<Scenario>> {
    let mut chain = Vec::new();
    let mut next = Some(id.clone());
    while let Some(id) = next.take() {
        if chain.len() >= MAX_VERSIONS || chain.iter().any(|s: &Scenario| id == s.id) {
            break;
        }
        let Some(scenario) = get_owned(ctx, owner_id, &id).await? else { break };
        next = scenario.version_of.clone().map(ScenarioId::from_trusted);
        chain.push(scenario);
    }
    chain.reverse();
    Ok(chain)
}

/// The regenerate chain of the caller's scenario `id`, oldest first. 404 when
/// the caller has no such scenario.
pub async fn versions(ctx: &AppContext, user_id: &UserId, id: &ScenarioId) -> ApiResult<Vec<Scenario>> {
    let chain = version_chain(ctx, user_id, id).await?;
    if chain.is_empty() {
        return Err(ApiError::not_found("Scenario"));
    }
    Ok(chain)
}

/// Changes the owner's scenario `id` with `change` (which sees it, deleted or
/// not, and may refuse), bumping its `version` and `updatedAt`, and rewrites
/// its history entry and search terms with it, in one transaction (with
/// `extra`, e.g. a purge marker). With `expected_version`, only when the
/// stored version is that one: 409 `VERSION_MISMATCH` otherwise, never a lost
/// update. Without it, a concurrent edit makes it read again and retry.
/// Counters (views, shares) are never written here; they only grow by `ADD`.
pub async fn edit(
    ctx: &AppContext,
    owner_id: &UserId,
    id: &ScenarioId,
    expected_version: Option<u64>,
    change: impl Fn(&mut Scenario) -> ApiResult<Vec<TxOp>>,
) -> ApiResult<Scenario> {
    for _ in 0..5 {
        let Some(current) = get_owned_even_deleted(ctx, owner_id, id).await? else {
            return Err(ApiError::not_found("Scenario"));
        };
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(version_mismatch());
        }
        let mut next = current.clone();
        let extra = change(&mut next)?;
        next.version = current.version + 1;
        next.updated_at = rfc3339(ctx.clock.now());
        if social::feed::is_listed(&next) && next.published_at.is_none() {
            next.published_at = Some(next.updated_at.clone());
        }
        let mut ops = vec![
            TxOp::Update {
                key: keys::scenario(owner_id, id),
                update: set_fields(&next)?,
                cond: Some(Cond::And(vec![Cond::Exists, Cond::eq("version", current.version)])),
            },
            TxOp::Update {
                key: keys::scenario_summary(owner_id, id),
                update: set_all(HistoryEntry::of(&next).fields()?, next.deleted_at.is_none()),
                cond: None,
            },
            TxOp::Update {
                key: keys::scenario_terms(owner_id, id),
                update: set_all(next.terms_fields()?, next.deleted_at.is_none()),
                cond: None,
            },
        ];
        ops.extend(extra);
        // The feeds and the owner's scenario count follow (after `extra`, so
        // its operations keep their indexes for the caller).
        ops.extend(social::feed::ops(&current, &next)?);
        let counted = |s: &Scenario| i64::from(!s.is_deleted());
        let moved = counted(&next) - counted(&current);
        if moved != 0 {
            ops.push(social::stats::add(owner_id, social::stats::Counter::Scenarios, moved));
            stats::append(ctx, &mut ops, &[(stats::SCENARIOS_LIVE, moved)]);
        }
        match ctx.table.transact(ops).await {
            Ok(()) => {
                if moved != 0 {
                    social::stats::after_change(ctx, owner_id).await;
                }
                return Ok(next);
            }
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                if expected_version.is_some() {
                    return Err(version_mismatch());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "The scenario is being changed by other requests; try again").retry_after(1))
}

fn version_mismatch() -> ApiError {
    ApiError::conflict("VERSION_MISMATCH", "The scenario was changed by another request; reload it and try again")
}

/// An update that sets every attribute of the scenario but its text, keys and counters.
fn set_fields(scenario: &Scenario) -> ApiResult<Update> {
    Ok(set_all(scenario.fields()?, scenario.deleted_at.is_none()))
}

/// An update that sets each of `fields` but the counters (and removes
/// `deletedAt` when `live`).
fn set_all(fields: Item, live: bool) -> Update {
    let mut update = Update::new();
    for (attr, value) in fields {
        if !COUNTERS.contains(&attr.as_str()) {
            update = update.set(&attr, value);
        }
    }
    if live {
        update = update.remove("deletedAt");
    }
    update
}

/// Makes the owner's scenario public or private (see [`edit`]).
pub async fn set_public(
    ctx: &AppContext,
    owner_id: &UserId,
    id: &ScenarioId,
    is_public: bool,
    expected_version: Option<u64>,
) -> ApiResult<Scenario> {
    edit(ctx, owner_id, id, expected_version, |s| {
        if s.is_deleted() {
            return Err(ApiError::not_found("Scenario"));
        }
        s.is_public = is_public;
        Ok(Vec::new())
    })
    .await
}

/// Whether the view marker `key` is there: that viewer's view counted that
/// day (`keys::scenario_view`, `keys::share_view`).
pub async fn view_marked(ctx: &AppContext, key: &Key) -> ApiResult<bool> {
    Ok(ctx.table.get(key).await?.is_some())
}

/// The marker of one viewer's view on one day, put only where there is none
/// (so a view counts once per viewer and day) and kept two days: the first
/// op of a view's counting transaction.
pub fn view_marker(ctx: &AppContext, key: Key) -> TxOp {
    let mut marker = Item::new();
    marker.insert(PK.into(), key.pk.into());
    marker.insert(SK.into(), key.sk.into());
    let expires = ctx.clock.now() + time::Duration::days(2);
    marker.insert(crate::ports::table::TTL.into(), expires.unix_timestamp().into());
    TxOp::Put { item: marker, cond: Some(Cond::NotExists) }
}

/// Counts one view of `scenario` by `viewer` on `day` (`yyyy-mm-dd`), once
/// per viewer and day (a view counted already is left as it is).
pub async fn count_view(ctx: &AppContext, scenario: &Scenario, viewer: &str, day: &str) -> ApiResult<()> {
    let (owner, id) = (scenario.owner(), scenario.scenario_id());
    let mut ops = vec![view_marker(ctx, keys::scenario_view(&id, day, viewer))];
    ops.extend(add_to_counter(&owner, &id, Counter::Views));
    ops.extend(social::feed::view_op(scenario));
    match ctx.table.transact(ops).await {
        Ok(()) | Err(StoreError::TransactionCanceled { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The most history entries one owner's listing reads.
pub const MAX_HISTORY: usize = 20_000;

/// Every history entry of `owner_id` (deleted ones included; the caller filters).
pub async fn history(ctx: &AppContext, owner_id: &UserId) -> ApiResult<Vec<HistoryEntry>> {
    let query = Query::partition(Index::Primary, keys::scenario_summaries(owner_id));
    read_all(ctx, query, MAX_HISTORY, |item| {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| ApiError::internal(format!("a history entry does not read: {e}")))
    })
    .await
}

/// The owner's scenarios `ids` that exist and are not deleted, in the order of `ids`.
pub async fn get_many(ctx: &AppContext, owner_id: &UserId, ids: &[ScenarioId]) -> ApiResult<Vec<Scenario>> {
    let mut found = std::collections::HashMap::new();
    let keys: Vec<_> = ids.iter().map(|id| keys::scenario(owner_id, id)).collect();
    for item in crate::ports::table::get_all(ctx.table.as_ref(), &keys).await? {
        let scenario = Scenario::from_item(item)?;
        found.insert(scenario.id.clone(), scenario);
    }
    Ok(ids.iter().filter_map(|id| found.remove(id.as_str())).filter(|s| !s.is_deleted()).collect())
}

/// A scenario as a history listing handles it: its history entry (to filter,
/// sort and count it) and, when what was read holds it (a search item), the
/// scenario without its text; the listing reads the others' scenarios (a
/// history entry, or a search item written before search items held it).
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub entry: HistoryEntry,
    pub untexted: Option<Scenario>,
}

/// Every search item of `owner_id` (its row and its terms), oldest first.
/// The shards are read at once.
pub async fn search_index(ctx: &AppContext, owner_id: &UserId) -> ApiResult<Vec<(HistoryRow, String)>> {
    let shards = keys::scenario_terms_partitions(owner_id).into_iter().map(|partition| {
        read_all(ctx, Query::partition(Index::Primary, partition), MAX_HISTORY, |mut item| {
            let terms = match item.remove(TERMS) {
                Some(Value::String(terms)) => terms,
                _ => String::new(),
            };
            let unreadable = |e: serde_json::Error| ApiError::internal(format!("a search item does not read: {e}"));
            // A title marks an item that holds the whole scenario but its text.
            if item.contains_key("title") {
                let untexted: Scenario = serde_json::from_value(Value::Object(item)).map_err(unreadable)?;
                Ok((HistoryRow { entry: HistoryEntry::of(&untexted), untexted: Some(untexted) }, terms))
            } else {
                let entry: HistoryEntry = serde_json::from_value(Value::Object(item)).map_err(unreadable)?;
                Ok((HistoryRow { entry, untexted: None }, terms))
            }
        })
    });
    let mut index: Vec<(HistoryRow, String)> =
        futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
    index.sort_unstable_by(|a, b| a.0.entry.id.cmp(&b.0.entry.id));
    index.truncate(MAX_HISTORY);
    Ok(index)
}

/// The owner's scenarios, in their partition, oldest first.
fn owned(owner_id: &UserId) -> Query {
    Query::partition(Index::Primary, keys::user_partition(owner_id))
        .sk(SortKey::BeginsWith(keys::SCENARIO_PREFIX.into()))
}

/// Every scenario of `owner_id`, deleted ones included (the data export).
pub async fn all_of(ctx: &AppContext, owner_id: &UserId) -> ApiResult<Vec<Scenario>> {
    read_all(ctx, owned(owner_id), usize::MAX, Scenario::from_item).await
}

/// Removes every scenario of `owner_id` for good, each with its history
/// entry, search item and purge marker (the account's deletion); returns how
/// many. A page at a time, so a long history never sits in memory; a retry
/// finds fewer and finishes the rest.
pub async fn purge_all_of(ctx: &AppContext, owner_id: &UserId) -> ApiResult<usize> {
    let mut purged = 0;
    loop {
        let page = ctx.table.query(&owned(owner_id).limit(100)).await?;
        if page.items.is_empty() {
            break;
        }
        for item in page.items {
            let scenario = Scenario::from_item(item)?;
            let marker = scenario.deleted_at.as_deref().map(|at| TxOp::Delete {
                key: keys::scenario_purge(at, owner_id, &scenario.scenario_id()),
                cond: None,
            });
            purge(ctx, &scenario, None, marker.into_iter().collect()).await?;
            purged += 1;
        }
    }
    // Companions whose scenario is gone already (none, unless a write raced
    // the deletion): the owner's history and search partitions end empty.
    let partitions =
        std::iter::once(keys::scenario_summaries(owner_id)).chain(keys::scenario_terms_partitions(owner_id));
    for partition in partitions {
        for item in read_all(ctx, Query::partition(Index::Primary, partition), usize::MAX, Ok).await? {
            if let Some(key) = Key::of(&item) {
                ctx.table.delete(&key, None).await?;
            }
        }
    }
    Ok(purged)
}

/// What a purge touches ([`purge`]): the table, and the scenario's exported
/// and media files. The access of every function that purges.
pub const PURGE_ACCESS: &[Access] = &[
    Access::TableRead,
    Access::TableWrite,
    Access::BlobRead(keys::EXPORTS),
    Access::BlobWrite(keys::EXPORTS),
    Access::BlobRead(keys::MEDIA),
    Access::BlobWrite(keys::MEDIA),
];

/// Removes a scenario for good (when it exists and `cond` holds on it): itself, its
/// history entry, its terms and `extra` (its purge marker), in one
/// transaction, then its share links (a share dies with its scenario);
/// `false` when `cond` did not hold.
pub async fn purge(ctx: &AppContext, scenario: &Scenario, cond: Option<Cond>, extra: Vec<TxOp>) -> ApiResult<bool> {
    let (owner, id) = (scenario.owner(), scenario.scenario_id());
    // Only while it exists: a purge that raced another one counts it out once.
    let cond = Some(cond.unwrap_or(Cond::Exists));
    let mut ops = vec![
        TxOp::Delete { key: keys::scenario(&owner, &id), cond },
        TxOp::Delete { key: keys::scenario_summary(&owner, &id), cond: None },
        TxOp::Delete { key: keys::scenario_terms(&owner, &id), cond: None },
    ];
    ops.extend(extra);
    ops.extend(social::feed::remove_op(scenario));
    if !scenario.is_deleted() {
        ops.push(social::stats::add(&owner, social::stats::Counter::Scenarios, -1));
        stats::append(ctx, &mut ops, &[(stats::SCENARIOS_LIVE, -1)]);
    }
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    purge_shares(ctx, &id).await?;
    purge_media(ctx, &id).await?;
    Ok(true)
}

/// Removes every video and narration made from a scenario: their files
/// (`media/<owner>/<id>/`) first, then their items, so a retried purge finds
/// what is left. Their job records stay (they name no content).
pub async fn purge_media(ctx: &AppContext, id: &ScenarioId) -> ApiResult<usize> {
    let query = Query::partition(Index::Gsi2, keys::media_of_scenario_partition(id));
    let items = read_all(ctx, query, usize::MAX, Ok).await?;
    let mut removed = 0;
    for item in items {
        let field = |name: &str| item.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let (owner, media_id) = (field("userId"), field("id"));
        if !owner.is_empty() && !media_id.is_empty() {
            ctx.blobs.delete_all(&keys::media_files(&UserId::from_trusted(&owner), &media_id)).await?;
        }
        if let Some(key) = Key::of(&item) {
            ctx.table.delete(&key, None).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes every share link of a scenario and the pointer to its reusable
/// one (their view markers expire by themselves; the owner's daily counters
/// stay, as analytics of what happened). Already-gone shares are no error, so
/// a retried purge finishes the rest. Shares of a scenario that is still
/// stored answer 404 from the moment it is deleted: the share routes check it.
pub async fn purge_shares(ctx: &AppContext, id: &ScenarioId) -> ApiResult<usize> {
    let query = Query::partition(Index::Gsi2, keys::shares_of_scenario_partition(id));
    let shares = read_all(ctx, query, usize::MAX, |item| Ok(Key::of(&item))).await?;
    let mut removed = 0;
    for key in shares.into_iter().flatten() {
        ctx.table.delete(&key, None).await?;
        removed += 1;
    }
    ctx.table.delete(&keys::active_share(id), None).await?;
    Ok(removed)
}
