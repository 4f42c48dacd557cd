//! The moderation queue's items (`keys::report_target`, written by the
//! sharing service's `POST /api/report`): one per reported target and case,
//! with its distinct reporters, reasons and priority, found by status and
//! priority on GSI1 and by its case id (`reportId`) on GSI2.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, SortKey};
use whatif_shared::{ApiError, ApiResult, keys};

use crate::targets::TargetView;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Resolved,
    Dismissed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Dismissed => "dismissed",
        }
    }
}

/// A case as the queue item stores it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub report_id: String,
    pub target_type: String,
    pub target_id: String,
    #[serde(default)]
    pub owner_id: Option<String>,
    pub status: Status,
    #[serde(default)]
    pub priority: Value,
    #[serde(default)]
    pub score: u32,
    /// Distinct reporters (accounts and addresses).
    #[serde(default)]
    pub reporters: u32,
    #[serde(default)]
    pub verified_reporters: u32,
    #[serde(default)]
    pub reasons: BTreeMap<String, u32>,
    #[serde(default)]
    pub max_severity: Option<String>,
    pub first_reported_at: String,
    #[serde(default)]
    pub last_reported_at: Option<String>,
    /// What the moderator did, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(default, skip_serializing)]
    pub version: u64,
    /// The target as it is now (filled in for the answer).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub action: String,
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Case {
    pub fn from_item(item: &Item) -> Option<Self> {
        let mut fields = item.clone();
        fields.retain(|attr, _| !matches!(attr.as_str(), PK | SK | GSI1_PK | GSI1_SK | GSI2_PK | GSI2_SK));
        serde_json::from_value(Value::Object(fields)).ok()
    }
}

/// The most cases one listing reads.
pub const MAX_CASES: usize = 5_000;

/// The cases of `status`, highest priority first, oldest first within it.
pub async fn by_status(ctx: &AppContext, status: Status) -> ApiResult<Vec<Case>> {
    let query = Query::partition(Index::Gsi1, format!("REPORTQ#{}", status.name()));
    let items = whatif_shared::ports::table::query_all(ctx.table.as_ref(), query, MAX_CASES).await?;
    Ok(items.iter().filter_map(Case::from_item).collect())
}

/// The case `report_id` (the queue item), read again strongly by its key.
pub async fn get(ctx: &AppContext, report_id: &str) -> ApiResult<(Case, Item)> {
    let (pk, sk) = keys::report_case(report_id);
    let page = ctx.table.query(&Query::partition(Index::Gsi2, pk).sk(SortKey::Eq(sk)).limit(1)).await?;
    let found = page.items.into_iter().next().ok_or_else(|| ApiError::not_found("Report"))?;
    let key = whatif_shared::ports::table::Key::of(&found).ok_or_else(|| ApiError::not_found("Report"))?;
    let item = ctx.table.get(&key).await?.ok_or_else(|| ApiError::not_found("Report"))?;
    let case = Case::from_item(&item).ok_or_else(|| ApiError::internal("a report case does not read"))?;
    if case.report_id != report_id {
        // The target was reported again after this case closed: a new case.
        return Err(ApiError::not_found("Report"));
    }
    Ok((case, item))
}

/// The open reports of a case's target (one per reporter).
pub async fn open_reports(ctx: &AppContext, case: &Case) -> ApiResult<Vec<Item>> {
    let query = Query::partition(Index::Primary, keys::report_target_partition(&case.target_type, &case.target_id))
        .sk(SortKey::BeginsWith("OPEN#".into()));
    Ok(whatif_shared::ports::table::query_all(ctx.table.as_ref(), query, MAX_CASES).await?)
}
