//! The audit log: one entry per admin or moderator action and per security
//! event (a role or status change, a sign-in lockout, a refresh token used
//! twice, a signing-key rotation), with who did it, what, to what, the state
//! before and after (small facts, never content), when and the request id.
//!
//! Append-only: an entry is put once (`NotExists`) and no route changes or
//! deletes it; it lives outside every account's partition, so it outlives
//! the accounts it names (by id and by the name they had then).
//! An admin action writes its entry in the same transaction as the change
//! ([`op`]); a security event is recorded after it ([`record`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK, TxOp};

/// The actor of events nobody signed in caused (a lockout, a key rotation).
pub const SYSTEM: &str = "system";

/// Who acted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The account's id, or `system`.
    pub id: String,
    /// The name (username or email) it had then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its role then (`user`, `moderator`, `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { id: SYSTEM.to_string(), name: None, role: None }
    }
}

/// One entry, as written and as served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// A ULID: entries sort by it in time.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub at: String,
    pub actor: Actor,
    /// E.g. `user.role`, `user.status`, `user.credits`, `report.hide`,
    /// `job.retry`, `security.signin_lockout`, `security.refresh_reuse`,
    /// `security.key_rotation`.
    pub action: String,
    /// `user`, `scenario`, `share`, `post`, `comment`, `job`, `report`, `key`.
    pub target_type: String,
    pub target_id: String,
    /// The target's name then (an account's username or email), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub before: Value,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub after: Value,
    /// The moderator's note, or what else the event says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Entry {
    /// An entry of `action` by `actor` on `target_type`/`target_id`.
    pub fn new(actor: Actor, action: &str, target_type: &str, target_id: &str) -> Self {
        Entry {
            id: String::new(),
            at: String::new(),
            actor,
            action: action.to_string(),
            target_type: target_type.to_string(),
            target_id: target_id.to_string(),
            target_name: None,
            before: Value::Null,
            after: Value::Null,
            note: None,
            request_id: None,
        }
    }

    pub fn change(mut self, before: Value, after: Value) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    pub fn target_name(mut self, name: Option<String>) -> Self {
        self.target_name = name;
        self
    }

    pub fn note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }

    pub fn request(mut self, request_id: &str) -> Self {
        self.request_id = Some(request_id.to_string());
        self
    }

    /// Reads a stored entry.
    pub fn from_item(item: &Item) -> Option<Self> {
        let mut fields = item.clone();
        fields.retain(|attr, _| !matches!(attr.as_str(), PK | SK | GSI1_PK | GSI1_SK | GSI2_PK | GSI2_SK));
        serde_json::from_value(Value::Object(fields)).ok()
    }
}

/// The put of `entry` (stamped with an id and the time now), for the
/// transaction of the action it records.
pub fn op(ctx: &AppContext, mut entry: Entry) -> ApiResult<TxOp> {
    let now = ctx.clock.now();
    entry.id = ctx.ids.ulid().to_string();
    entry.at = rfc3339(now);
    let month = entry.at.get(..7).unwrap_or("0000-00").to_string();
    let Value::Object(mut item) = serde_json::to_value(&entry).map_err(ApiError::internal)? else {
        return Err(ApiError::internal("an audit entry does not serialise to an object"));
    };
    let key = keys::audit_entry(&month, &entry.id);
    let (a_pk, a_sk) = keys::audit_by_actor(&entry.actor.id, &entry.id);
    let (t_pk, t_sk) = keys::audit_on_target(&entry.target_type, &entry.target_id, &entry.id);
    for (attr, value) in
        [(PK, key.pk), (SK, key.sk), (GSI1_PK, a_pk), (GSI1_SK, a_sk), (GSI2_PK, t_pk), (GSI2_SK, t_sk)]
    {
        item.insert(attr.into(), json!(value));
    }
    Ok(TxOp::Put { item, cond: Some(Cond::NotExists) })
}

/// Records `entry` on its own (a security event, after what it records).
/// An entry that cannot be written is logged as an error with its facts, so
/// the event is never silently lost, and not the caller's failure.
pub async fn record(ctx: &AppContext, entry: Entry) {
    let facts = format!("{} {} {}#{}", entry.action, entry.actor.id, entry.target_type, entry.target_id);
    let result = match op(ctx, entry) {
        Ok(TxOp::Put { item, cond }) => ctx.table.put(item, cond).await.map_err(ApiError::from),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(entry = %facts, error = %e.message, "could not write an audit entry");
    }
}
