//! `GET /api/admin/stats`: the platform at a glance, from the counters kept
//! as things happen (`whatif_shared::stats`): one batch get of the counter
//! shards and one of the days of usage asked for, never a scan. Counters
//! start at zero: what was written before they existed is not counted.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::stats::{self, Usage};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub users: Users,
    pub scenarios: Scenarios,
    pub jobs: ByStatus,
    /// Model usage by day (UTC) and provider, oldest first; only days and providers with any.
    pub usage: Vec<Usage>,
    /// Reported targets by moderation status.
    pub reports: ByStatus,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Users {
    /// Accounts that are not deleted.
    pub total: i64,
    /// Every account by status (`active`, `suspended`, `banned`, `deleted`).
    pub by_status: BTreeMap<String, i64>,
    /// Accounts that are not deleted, by role.
    pub by_role: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scenarios {
    /// Saved scenarios that are not deleted.
    pub total: i64,
    /// Scenarios ever saved.
    pub created: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByStatus {
    pub by_status: BTreeMap<String, i64>,
}

/// A group's counters, with every value in `known` present (0 when never counted).
fn with_known(counters: &BTreeMap<String, i64>, group: &str, known: &[&str]) -> BTreeMap<String, i64> {
    let mut out = stats::group(counters, group);
    for value in known {
        out.entry((*value).to_string()).or_insert(0);
    }
    out
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let days = match req.query_param("days") {
        None | Some("") => 30,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| ApiError::validation("days", "must be a whole number from 1 to 366"))?,
    };
    let counters = stats::counters(&ctx).await?;
    let by_status = with_known(&counters, stats::USERS_STATUS, &["active", "suspended", "banned", "deleted"]);
    let by_role = with_known(&counters, stats::USERS_ROLE, &["user", "moderator", "admin"]);
    let total = by_status.iter().filter(|(s, _)| s.as_str() != "deleted").map(|(_, n)| n).sum();
    let count = |name: &str| counters.get(name).copied().unwrap_or(0);
    let answer = Stats {
        users: Users { total, by_status, by_role },
        scenarios: Scenarios { total: count(stats::SCENARIOS_LIVE), created: count(stats::SCENARIOS_CREATED) },
        jobs: ByStatus { by_status: with_known(&counters, stats::JOBS_STATUS, crate::jobs_list::STATUSES) },
        usage: stats::usage(&ctx, days).await?,
        reports: ByStatus { by_status: with_known(&counters, stats::REPORTS_STATUS, &["open"]) },
    };
    Ok(Reply::ok(answer))
}
