//! `GET /api/admin/audit`: the append-only audit log, newest first, filtered
//! by `actor` (an account id or `system`), `targetType` with `targetId`,
//! `action` (a name, or its family: `report` finds `report.hide`, ...) and a
//! time range (`from`, `to`; the last 90 days by default, at most 2 years).
//! One query: the actor's or the target's index partition, or the months of
//! the range; paginated by `cursor` (the last entry) or `page`.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::audit::Entry;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, page_in_memory};
use whatif_shared::ports::table::{Index, Item, Query, query_all};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, keys};

/// The most entries one listing reads.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLog {
    pub entries: Vec<Entry>,
    pub pagination: Pagination,
    pub next_cursor: Option<String>,
}

/// A day (`2026-11-30`, from its start) or an RFC 3339 time.
fn time_param(req: &ApiRequest, name: &str, end_of_day: bool) -> ApiResult<Option<OffsetDateTime>> {
    let Some(raw) = req.query_param(name) else { return Ok(None) };
    let bad = || ApiError::validation(name, "must be a day (2026-11-30) or an RFC 3339 time");
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(Some(at));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(raw, &format).map_err(|_| bad())?;
    let start = day.midnight().assume_utc();
    Ok(Some(if end_of_day { start + time::Duration::days(1) - time::Duration::nanoseconds(1) } else { start }))
}

fn text_param<'a>(req: &'a ApiRequest, name: &str, max: usize) -> ApiResult<Option<&'a str>> {
    match req.query_param(name) {
        Some(raw) if raw.chars().count() > max => {
            Err(ApiError::validation(name, format!("must be at most {max} characters")))
        }
        other => Ok(other),
    }
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    let actor = text_param(&req, "actor", 40)?;
    let action = text_param(&req, "action", 60)?;
    let target_type = text_param(&req, "targetType", 20)?;
    let target_id = text_param(&req, "targetId", 80)?;
    if target_type.is_some() != target_id.is_some() {
        return Err(ApiError::validation("targetId", "targetType and targetId go together"));
    }
    let now = ctx.clock.now();
    let to = time_param(&req, "to", true)?.unwrap_or(now);
    let from = time_param(&req, "from", false)?.unwrap_or(to - time::Duration::days(90));
    if from > to || to - from > time::Duration::days(731) {
        return Err(ApiError::validation("from", "the range runs forward and spans at most 2 years"));
    }
    let (from_at, to_at) = (rfc3339(from), rfc3339(to));
    let items: Vec<Item> = match (actor, target_type, target_id) {
        (Some(actor), _, _) => {
            let query = Query::partition(Index::Gsi1, keys::audit_of_actor(actor)).backward();
            query_all(ctx.table.as_ref(), query, MAX_ENTRIES).await?
        }
        (None, Some(kind), Some(id)) => {
            let query = Query::partition(Index::Gsi2, keys::audit_of_target(kind, id)).backward();
            query_all(ctx.table.as_ref(), query, MAX_ENTRIES).await?
        }
        _ => {
            let months = months_between(from, to);
            let reads = months.iter().map(|m| {
                query_all(
                    ctx.table.as_ref(),
                    Query::partition(Index::Primary, keys::audit_month(m)).backward(),
                    MAX_ENTRIES,
                )
            });
            futures::future::try_join_all(reads).await?.into_iter().flatten().collect()
        }
    };
    let mut entries: Vec<Entry> = items
        .iter()
        .filter_map(Entry::from_item)
        .filter(|e| e.at >= from_at && e.at <= to_at)
        .filter(|e| action.is_none_or(|a| e.action == a || e.action.starts_with(&format!("{a}."))))
        .filter(|e| target_type.is_none_or(|t| e.target_type == t))
        .filter(|e| target_id.is_none_or(|t| e.target_id == t))
        .collect();
    entries.sort_by(|a, b| b.id.cmp(&a.id));
    entries.truncate(MAX_ENTRIES);
    let (page, pagination, next_cursor) = page_in_memory(&entries, &paging, |e| e.id.clone())?;
    Ok(Reply::ok(AuditLog { entries: page.to_vec(), pagination, next_cursor }))
}

/// The months (`yyyy-mm`) from `from` to `to`, newest first.
fn months_between(from: OffsetDateTime, to: OffsetDateTime) -> Vec<String> {
    let mut months = Vec::new();
    let (mut year, mut month) = (to.year(), u8::from(to.month()));
    let (first_year, first_month) = (from.year(), u8::from(from.month()));
    while (year, month) >= (first_year, first_month) && months.len() < 25 {
        months.push(format!("{year:04}-{month:02}"));
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_reads_its_months_newest_first() {
        let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
        let months = months_between(at("2025-11-15T00:00:00Z"), at("2026-02-01T00:00:00Z"));
        assert_eq!(months, ["2026-02", "2026-01", "2025-12", "2025-11"]);
        assert_eq!(months_between(at("2026-02-01T00:00:00Z"), at("2026-02-28T00:00:00Z")), ["2026-02"]);
    }
}
