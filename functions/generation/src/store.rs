//! Scenarios in the table: the stored (and served) [`Scenario`], and the
//! reads and writes the generation routes need. The key design and its access
//! patterns are in `whatif_shared::keys` (scenario section):
//!
//! - the item: `USER#<owner>` / `SCN#<id>`, written once with a condition (never overwritten);
//! - by id: GSI1 `SCN#<id>` / `SCN`;
//! - a whole branch tree: GSI2 `TREE#<rootId>` / `<depth>#<id>` (one query, root first);
//! - the regenerate chain: `versionOf`, walked back on the owner's partition.
//!
//! GSI reads are eventually consistent on DynamoDB: when the owner is known
//! (continue, regenerate) the item is read from its base key instead.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::error::{ApiError, ApiResult};
use whatif_shared::keys;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{
    Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, SortKey, TxOp, Update,
};

use crate::provider::TokenUsage;
use crate::scenario::{Choice, Language, Length, PromptType, Section};

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
    /// Markdown: one `##` heading and its body per section.
    pub content: String,
    pub sections: Vec<Section>,
    /// What could happen next (continue with a choice's id).
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
    pub prompt_version: String,
    /// Bumped by every change; edits are conditional on it (`If-Match`).
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
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
        let key = keys::scenario(&self.owner_id, &self.id);
        let (g1pk, g1sk) = keys::scenario_by_id(&self.id);
        let (g2pk, g2sk) = keys::scenario_tree_node(&self.root_id, self.depth, &self.id);
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

    pub fn is_owned_by(&self, user_id: Option<&str>) -> bool {
        user_id.is_some_and(|u| !self.owner_id.is_empty() && u == self.owner_id)
    }

    /// The owner, or anyone when public.
    pub fn is_visible_to(&self, user_id: Option<&str>) -> bool {
        self.is_public || self.is_owned_by(user_id)
    }
}

/// Saves a new scenario. Never overwrites: an id that exists is a conflict.
pub async fn save(ctx: &AppContext, scenario: &Scenario) -> ApiResult<()> {
    match ctx.table.put(scenario.to_item()?, Some(Cond::NotExists)).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            Err(ApiError::conflict("SCENARIO_EXISTS", "A scenario with this id already exists"))
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
    let root = keys::scenario(&child.owner_id, &child.root_id);
    // The root itself is node 1, uncounted.
    let room = Cond::Or(vec![
        Cond::AttrNotExists(NODE_COUNT.into()),
        Cond::Lt(NODE_COUNT.into(), Value::from(MAX_TREE_NODES as u64 - 1)),
    ]);
    let ops = vec![
        TxOp::Put { item: child.to_item()?, cond: Some(Cond::NotExists) },
        TxOp::Update {
            key: root.clone(),
            update: Update::new().add(NODE_COUNT, 1),
            cond: Some(Cond::And(vec![Cond::Exists, room])),
        },
    ];
    match ctx.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            Err(ApiError::conflict("SCENARIO_EXISTS", "A scenario with this id already exists"))
        }
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => match ctx.table.get(&root).await? {
            Some(_) => Err(ApiError::unprocessable(
                "TREE_FULL",
                format!("A story tree holds at most {MAX_TREE_NODES} scenarios"),
            )),
            None => save(ctx, child).await,
        },
        Err(e) => Err(e.into()),
    }
}

/// The owner's scenario `id` (a strongly consistent read of its base key).
pub async fn get_owned(ctx: &AppContext, owner_id: &str, id: &str) -> ApiResult<Option<Scenario>> {
    match ctx.table.get(&keys::scenario(owner_id, id)).await? {
        Some(item) => Scenario::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// Any scenario by id (GSI1), whoever owns it. Check visibility before serving it.
pub async fn get_by_id(ctx: &AppContext, id: &str) -> ApiResult<Option<Scenario>> {
    let (pk, sk) = keys::scenario_by_id(id);
    let page = ctx.table.query(&Query::partition(Index::Gsi1, pk).sk(SortKey::Eq(sk)).limit(1)).await?;
    match page.items.into_iter().next() {
        Some(item) => Scenario::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// The scenario `id` when `caller` may see it (owner, or public); 404 otherwise,
/// also when it exists but is another user's private one.
pub async fn get_visible(ctx: &AppContext, caller: Option<&str>, id: &str) -> ApiResult<Scenario> {
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

/// Every node of the tree rooted at `root_id`, by depth then age (the root first).
pub async fn tree_nodes(ctx: &AppContext, root_id: &str) -> ApiResult<Vec<Scenario>> {
    query_all(ctx, Query::partition(Index::Gsi2, keys::scenario_tree(root_id))).await
}

/// The continuations of `node`, oldest first.
pub async fn children(ctx: &AppContext, node: &Scenario) -> ApiResult<Vec<Scenario>> {
    let query = Query::partition(Index::Gsi2, keys::scenario_tree(&node.root_id))
        .sk(SortKey::BeginsWith(keys::scenario_tree_depth(node.depth + 1)));
    let nodes = query_all(ctx, query).await?;
    Ok(nodes.into_iter().filter(|n| n.parent_id.as_deref() == Some(node.id.as_str())).collect())
}

async fn query_all(ctx: &AppContext, mut query: Query) -> ApiResult<Vec<Scenario>> {
    let mut out = Vec::new();
    loop {
        let page = ctx.table.query(&query).await?;
        for item in page.items {
            out.push(Scenario::from_item(item)?);
        }
        match page.next {
            Some(next) if out.len() < MAX_TREE_NODES => query = query.start(Some(next)),
            _ => break,
        }
    }
    out.truncate(MAX_TREE_NODES);
    Ok(out)
}

/// The regenerate chain that ends at the owner's scenario `id`: oldest version
/// first, `id` last. Empty when the owner has no such scenario. A version that
/// is gone (deleted) ends the walk.
pub async fn version_chain(ctx: &AppContext, owner_id: &str, id: &str) -> ApiResult<Vec<Scenario>> {
    let mut chain = Vec::new();
    let mut next = Some(id.to_string());
    while let Some(id) = next.take() {
        if chain.len() >= MAX_VERSIONS || chain.iter().any(|s: &Scenario| s.id == id) {
            break;
        }
        let Some(scenario) = get_owned(ctx, owner_id, &id).await? else { break };
        next = scenario.version_of.clone();
        chain.push(scenario);
    }
    chain.reverse();
    Ok(chain)
}

/// Makes the owner's scenario public or private; with `expected_version`, only
/// when the stored version is that one (409 otherwise). 404 when the owner has
/// no such scenario.
pub async fn set_public(
    ctx: &AppContext,
    owner_id: &str,
    id: &str,
    is_public: bool,
    expected_version: Option<u64>,
) -> ApiResult<Scenario> {
    let update = Update::new().set("isPublic", is_public).set("updatedAt", rfc3339(ctx.clock.now())).add("version", 1);
    let cond = match expected_version {
        Some(v) => Cond::And(vec![Cond::Exists, Cond::eq("version", v)]),
        None => Cond::Exists,
    };
    match ctx.table.update(&keys::scenario(owner_id, id), update, Some(cond)).await {
        Ok(item) => Scenario::from_item(item),
        Err(StoreError::ConditionFailed) => match (expected_version, get_owned(ctx, owner_id, id).await?) {
            (Some(_), Some(_)) => Err(ApiError::conflict(
                "VERSION_MISMATCH",
                "The scenario was changed by another request; reload it and try again",
            )),
            _ => Err(ApiError::not_found("Scenario")),
        },
        Err(e) => Err(e.into()),
    }
}
