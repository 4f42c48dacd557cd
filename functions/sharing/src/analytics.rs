//! `GET /api/sharing/analytics`: the caller's shares over `dateFrom..dateTo`
//! (whole UTC days, both included; by default the last 30 days; at most 366):
//! new shares, counted views and sends by platform, per day and in total, and
//! how many of the caller's shares are live now. Reads only the caller's own
//! day items (one query) and share list.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use time::{Date, Duration, OffsetDateTime};
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{Index, Query, SortKey, query_all};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, keys};

use crate::mine;
use crate::stats::{Platform, SHARES, VIEWS};

/// The longest range one request reads.
pub const MAX_DAYS: i64 = 366;
/// The range when none is given.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Serialize, JsonSchema)]
pub struct AnalyticsAnswer {
    pub analytics: Analytics,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub date_from: String,
    pub date_to: String,
    /// Share links made in the range.
    pub total_shares: u64,
    /// Counted views in the range (once per viewer, share and day; not yours).
    pub total_views: u64,
    /// Your shares that work right now (not paused, expired or revoked).
    pub active_shares: u64,
    /// Sends recorded in the range, by platform (every platform, 0 included).
    pub platform_stats: BTreeMap<String, u64>,
    /// Every day of the range, oldest first.
    pub daily: Vec<Day>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: String,
    pub shares: u64,
    pub views: u64,
    /// Sends recorded that day, all platforms.
    pub records: u64,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let owner = req.user()?.id();
    let today = ctx.clock.now().date();
    let to = day(&req, "dateTo")?.unwrap_or(today);
    let from = day(&req, "dateFrom")?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::validation("dateFrom", "must not be after dateTo"));
    }
    if (to - from).whole_days() + 1 > MAX_DAYS {
        return Err(ApiError::validation("dateTo", format!("the range is at most {MAX_DAYS} days")));
    }
    let query = Query::partition(Index::Primary, keys::share_stats_partition(&owner))
        .sk(SortKey::Between(from.to_string(), to.to_string()));
    // The days' counts and the owner's shares, at once.
    let (days, shares) = futures::try_join!(
        async { Ok(query_all(ctx.table.as_ref(), query, MAX_DAYS as usize).await?) },
        mine::all_of(&ctx, &owner)
    )?;
    let mut counted: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for item in days {
        if let Some(date) = item.get("date").and_then(Value::as_str).map(str::to_string) {
            counted.insert(date, item);
        }
    }
    let number = |item: Option<&serde_json::Map<String, Value>>, attr: &str| {
        item.and_then(|i| i.get(attr)).and_then(Value::as_u64).unwrap_or(0)
    };
    let mut platform_stats: BTreeMap<String, u64> = Platform::ALL.iter().map(|p| (p.name().to_string(), 0)).collect();
    let mut daily = Vec::new();
    for offset in 0..=(to - from).whole_days() {
        let date = (from + Duration::days(offset)).to_string();
        let item = counted.get(&date);
        let mut records = 0;
        for platform in Platform::ALL {
            let n = number(item, &platform.attribute());
            records += n;
            *platform_stats.entry(platform.name().to_string()).or_default() += n;
        }
        daily.push(Day { shares: number(item, SHARES), views: number(item, VIEWS), records, date });
    }
    let now = ctx.clock.now();
    let active_shares = shares.iter().filter(|s| s.is_live(now)).count() as u64;
    let analytics = Analytics {
        date_from: from.to_string(),
        date_to: to.to_string(),
        total_shares: daily.iter().map(|d| d.shares).sum(),
        total_views: daily.iter().map(|d| d.views).sum(),
        active_shares,
        platform_stats,
        daily,
    };
    Ok(Reply::ok(AnalyticsAnswer { analytics }))
}

/// A day parameter: `2026-11-30`, or an RFC 3339 time (its UTC day).
fn day(req: &ApiRequest, name: &str) -> ApiResult<Option<Date>> {
    let Some(raw) = req.query_param(name).filter(|r| !r.is_empty()) else { return Ok(None) };
    let bad = || ApiError::validation(name, "must be a date such as 2026-11-30 (or an RFC 3339 time)");
    if let Ok(date) = Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]")) {
        return Ok(Some(date));
    }
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|at| Some(at.to_offset(time::UtcOffset::UTC).date()))
        .map_err(|_| bad())
}
