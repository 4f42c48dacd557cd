//! Platform counters for the admin's stats (`GET /api/admin/stats`),
//! maintained as things happen and never computed by a scan.
//!
//! - Counters (users by status and role, scenarios, jobs by status, reports
//!   by status) live on [`keys::STATS_SHARDS`] items (`STATS#<shard>` /
//!   `COUNTERS`). What changes a count puts [`add_op`] (or [`move_op`]) in
//!   the SAME transaction as the change itself, on a shard chosen at random:
//!   DynamoDB cancels concurrent transactions that touch one item, so a
//!   single counter item would serialise every registration and every
//!   generation. Reading sums every shard (one batch get).
//! - Model usage (tokens and cost by provider and day) is an `ADD` on the
//!   day's item (`STATSDAY#<yyyy-mm-dd>` / `USAGE`) after each model answer,
//!   on its own: a model call is not a table write to join, and a plain
//!   update is never cancelled by a concurrent one (so one item per day).
//!
//! Counters start at zero: data written before they existed is not counted.
//!
//! Counter names (`group.value`): `users.status.<active|suspended|banned|deleted>`,
//! `users.role.<user|moderator|admin>` (accounts that are not deleted),
//! `scenarios.created`, `scenarios.live` (saved and not deleted),
//! `jobs.status.<queued|running|succeeded|failed|cancelled>`,
//! `reports.status.<open|...>` (reported targets).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::context::AppContext;
use crate::error::ApiResult;
use crate::keys;
use crate::ports::table::{Key, PK, SK, TxOp, Update};

/// Accounts by status (`users.status.<status>`).
pub const USERS_STATUS: &str = "users.status";
/// Accounts that are not deleted, by role (`users.role.<role>`).
pub const USERS_ROLE: &str = "users.role";
/// Jobs by status (`jobs.status.<status>`).
pub const JOBS_STATUS: &str = "jobs.status";
/// Reported targets by status (`reports.status.<status>`).
pub const REPORTS_STATUS: &str = "reports.status";
/// Scenarios ever saved.
pub const SCENARIOS_CREATED: &str = "scenarios.created";
/// Saved scenarios that are not deleted (a soft delete takes one off, a restore puts it back).
pub const SCENARIOS_LIVE: &str = "scenarios.live";

/// The name of the counter `value` of `group` (`users.status` + `active`).
pub fn counter(group: &str, value: &str) -> String {
    format!("{group}.{value}")
}

/// An `ADD` of every `(counter, delta)` to one shard chosen at random, for
/// the transaction of what it counts. At most one such operation may go in
/// a transaction (two could pick the same shard): use [`append`] to add to
/// a transaction that may already hold one.
pub fn add_op(_ctx: &AppContext, deltas: &[(&str, i64)]) -> TxOp {
    let mut update = Update::new();
    for (name, delta) in deltas {
        if *delta != 0 {
            update = update.add(name, *delta);
        }
    }
    TxOp::Update { key: keys::stats_shard(rand::random::<u32>()), update, cond: None }
}

/// Moves one count of `group` from `from` to `to` (an account's status
/// from `active` to `banned`, a report from `open` to `resolved`); `None`
/// when they are the same.
pub fn move_op(ctx: &AppContext, group: &str, from: &str, to: &str) -> Option<TxOp> {
    (from != to).then(|| add_op(ctx, &[(&counter(group, from), -1), (&counter(group, to), 1)]))
}

/// Adds `deltas` to `ops`: into the counter operation already there, if
/// any, else as a new one at the end (so earlier operations keep their
/// indexes).
pub fn append(ctx: &AppContext, ops: &mut Vec<TxOp>, deltas: &[(&str, i64)]) {
    let existing = ops.iter_mut().find_map(|op| match op {
        TxOp::Update { key, update, cond: None } if is_shard(key) => Some(update),
        _ => None,
    });
    match existing {
        Some(update) => {
            for (name, delta) in deltas {
                match update.add.iter_mut().find(|(n, _)| n == name) {
                    Some((_, by)) => *by += delta,
                    None => update.add.push((name.to_string(), *delta)),
                }
            }
        }
        None => ops.push(add_op(ctx, deltas)),
    }
}

fn is_shard(key: &Key) -> bool {
    key.sk == "COUNTERS" && key.pk.starts_with("STATS#")
}

/// Every counter, summed over the shards (absent counters are zero and not listed).
pub async fn counters(ctx: &AppContext) -> ApiResult<BTreeMap<String, i64>> {
    let items = ctx.table.batch_get(&keys::stats_shards()).await?;
    let mut sums = BTreeMap::new();
    for item in items {
        for (name, value) in item {
            if name == PK || name == SK {
                continue;
            }
            if let Some(n) = value.as_i64() {
                *sums.entry(name).or_insert(0) += n;
            }
        }
    }
    Ok(sums)
}

/// The counters of `group`, by value (`users.status` → `{active: 3, banned: 1}`).
pub fn group(counters: &BTreeMap<String, i64>, group: &str) -> BTreeMap<String, i64> {
    let prefix = format!("{group}.");
    counters.iter().filter_map(|(name, n)| name.strip_prefix(&prefix).map(|value| (value.to_string(), *n))).collect()
}

/// One provider's model usage on one day.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// `yyyy-mm-dd`, UTC.
    pub day: String,
    pub provider: String,
    pub tokens: i64,
    /// Zero for a provider without a price (the offline one).
    pub cost_usd: f64,
}

const TOKENS: &str = "tokens.";
const COST: &str = "costMicroUsd.";

/// Counts one model answer: `tokens` and `cost_usd` (when priced) on
/// `provider`, today. Best effort: a failure is logged, never the caller's.
pub async fn record_usage(ctx: &AppContext, provider: &str, tokens: u32, cost_usd: Option<f64>) {
    let day = day_of(ctx.clock.now());
    let micro = cost_usd.map_or(0, |usd| (usd * 1_000_000.0).round() as i64).max(0);
    let mut update = Update::new().add(&format!("{TOKENS}{provider}"), i64::from(tokens));
    if micro > 0 {
        update = update.add(&format!("{COST}{provider}"), micro);
    }
    if let Err(e) = ctx.table.update(&keys::stats_day(&day), update, None).await {
        tracing::error!(error = %e, provider, tokens, "could not count a model answer's usage");
    }
}

/// Model usage of the last `days` days (today included), oldest first, one
/// row per day and provider that had any.
pub async fn usage(ctx: &AppContext, days: u32) -> ApiResult<Vec<Usage>> {
    let today = ctx.clock.now();
    let wanted: Vec<String> =
        (0..i64::from(days.max(1))).rev().map(|back| day_of(today - Duration::days(back))).collect();
    let keys: Vec<Key> = wanted.iter().map(|d| keys::stats_day(d)).collect();
    let mut by_day: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    {
        for item in crate::ports::table::get_all(ctx.table.as_ref(), &keys).await? {
            let Some(day) = item.get(PK).and_then(Value::as_str).and_then(|pk| pk.strip_prefix("STATSDAY#")) else {
                continue;
            };
            let providers = by_day.entry(day.to_string()).or_default();
            for (name, value) in &item {
                let n = value.as_i64().unwrap_or(0);
                if let Some(provider) = name.strip_prefix(TOKENS) {
                    providers.entry(provider.to_string()).or_default().0 += n;
                } else if let Some(provider) = name.strip_prefix(COST) {
                    providers.entry(provider.to_string()).or_default().1 += n;
                }
            }
        }
    }
    Ok(by_day
        .into_iter()
        .flat_map(|(day, providers)| {
            providers.into_iter().map(move |(provider, (tokens, micro))| Usage {
                day: day.clone(),
                provider,
                tokens,
                cost_usd: micro as f64 / 1_000_000.0,
            })
        })
        .collect())
}

fn day_of(at: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_group_by_their_prefix() {
        let all: BTreeMap<String, i64> =
            [("users.status.active", 3), ("users.statusx.y", 9), ("users.role.admin", 1), ("jobs.status.failed", 2)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        assert_eq!(group(&all, USERS_STATUS), BTreeMap::from([("active".to_string(), 3)]));
        assert_eq!(group(&all, JOBS_STATUS), BTreeMap::from([("failed".to_string(), 2)]));
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(time::macros::datetime!(2026-03-09 23:59 UTC)), "2026-03-09");
    }
}
