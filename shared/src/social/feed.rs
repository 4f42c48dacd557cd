//! Public scenarios in the feeds. A scenario that is public, not hidden by a
//! moderator and not deleted ("listed") has an entry (`keys::public_scenario`)
//! in the public feed and in its owner's activity, next to posts. The
//! scenario store writes it in the same transaction as the change that lists
//! the scenario (and rewrites it with each edit while listed), and deletes it
//! in the one that unlists it: the feeds never show a private scenario.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK, TxOp, Update};
use crate::scenarios::store::Scenario;
use crate::scenarios::types::PromptType;

/// A public scenario's entry in the feeds, as anyone sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedScenario {
    pub id: String,
    pub owner_id: String,
    pub title: String,
    pub summary: String,
    pub topic: String,
    /// `en` or `vi`.
    pub language: String,
    pub prompt_type: PromptType,
    #[serde(default)]
    pub view_count: u64,
    pub created_at: String,
    /// When it became public (its place in the feeds).
    pub published_at: String,
}

impl FeedScenario {
    /// Reads an entry item (`None` when it is not one).
    pub fn from_item(item: &Item) -> Option<Self> {
        let mut fields = item.clone();
        fields.retain(|attr, _| !matches!(attr.as_str(), PK | SK | GSI1_PK | GSI1_SK | GSI2_PK | GSI2_SK));
        serde_json::from_value(Value::Object(fields)).ok()
    }
}

/// Whether `scenario` belongs in the feeds: public, not hidden, not deleted.
pub fn is_listed(scenario: &Scenario) -> bool {
    scenario.is_public && !scenario.is_hidden && !scenario.is_deleted()
}

/// The entry item of a listed scenario.
fn entry_item(scenario: &Scenario, published_at: &str) -> ApiResult<Item> {
    let entry = FeedScenario {
        id: scenario.id.clone(),
        owner_id: scenario.owner_id.clone(),
        title: scenario.title.clone(),
        summary: scenario.summary.clone(),
        topic: scenario.topic.clone(),
        language: scenario.language.as_str().to_string(),
        prompt_type: scenario.prompt_type,
        view_count: scenario.view_count,
        created_at: scenario.created_at.clone(),
        published_at: published_at.to_string(),
    };
    let Value::Object(mut item) = serde_json::to_value(&entry).map_err(ApiError::internal)? else {
        return Err(ApiError::internal("a feed entry does not serialise to an object"));
    };
    let key = keys::public_scenario(&scenario.scenario_id());
    let (a_pk, a_sk) = keys::activity_entry(&scenario.owner(), published_at, &scenario.id);
    let (f_pk, f_sk) = keys::feed_entry(published_at, &scenario.id);
    for (attr, value) in
        [(PK, key.pk), (SK, key.sk), (GSI1_PK, a_pk), (GSI1_SK, a_sk), (GSI2_PK, f_pk), (GSI2_SK, f_sk)]
    {
        item.insert(attr.into(), json!(value));
    }
    Ok(item)
}

/// The operations that keep the feeds in step with an edit of a scenario
/// from `before` to `after`: its entry written while it is listed (with the
/// time it was first listed, `after.published_at`), removed when it stops
/// being listed, nothing when it never was.
pub fn ops(before: &Scenario, after: &Scenario) -> ApiResult<Vec<TxOp>> {
    let key = keys::public_scenario(&after.scenario_id());
    match (is_listed(before), is_listed(after)) {
        (_, true) => {
            let published = after.published_at.clone().unwrap_or_else(|| after.created_at.clone());
            Ok(vec![TxOp::Put { item: entry_item(after, &published)?, cond: None }])
        }
        (true, false) => Ok(vec![TxOp::Delete { key, cond: None }]),
        (false, false) => Ok(Vec::new()),
    }
}

/// The operation that removes a scenario's entry (its purge).
pub fn remove_op(scenario: &Scenario) -> Option<TxOp> {
    is_listed(scenario).then(|| TxOp::Delete { key: keys::public_scenario(&scenario.scenario_id()), cond: None })
}

/// The view counted on a listed scenario's entry too (the feeds rank by
/// it), in the transaction that counts it on the scenario: nothing for a
/// scenario that is not listed (an entry gone meanwhile cancels the view).
pub fn view_op(scenario: &Scenario) -> Option<TxOp> {
    is_listed(scenario).then(|| TxOp::Update {
        key: keys::public_scenario(&scenario.scenario_id()),
        update: Update::new().add("viewCount", 1),
        cond: Some(Cond::Exists),
    })
}

/// The owner of an entry, for the owner's activity.
pub fn owner(entry: &FeedScenario) -> UserId {
    UserId::from_trusted(entry.owner_id.clone())
}
