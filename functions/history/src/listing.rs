//! What `GET /api/scenarios/my` and `/search` share: the query (paging, sort,
//! filters), applying it to the owner's history entries, and the page.
//!
//! The history is one partition of small entries per owner (no text), read
//! whole, then filtered, sorted and counted in memory, so `total` always
//! matches the filtered list and every sort is exact. The cursor is the last
//! entry's (sort value, id): the next page starts strictly after it, so new
//! scenarios arriving meanwhile (newer than the cursor) are neither skipped
//! nor repeated.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, encode_cursor};
use whatif_shared::ports::table::Item;
use whatif_shared::scenarios::store::{self, HistoryEntry, HistoryRow, Scenario, TEXT_FIELDS};
use whatif_shared::scenarios::types::PromptType;
use whatif_shared::text;
use whatif_shared::{ApiError, ApiRequest, ApiResult, ScenarioId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    Rating,
    ViewCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

/// The query string of both routes (`q` is the search's).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawQuery {
    // Read by `PageRequest`; named here so they are not unknown.
    #[serde(rename = "page")]
    _page: Option<String>,
    #[serde(rename = "limit")]
    _limit: Option<String>,
    #[serde(rename = "cursor")]
    _cursor: Option<String>,
    #[serde(default)]
    sort: Option<SortField>,
    #[serde(default)]
    order: Option<Order>,
    #[serde(default)]
    prompt_type: Option<PromptType>,
    is_favorite: Option<String>,
    tags: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    q: Option<String>,
}

/// A parsed, valid listing query.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub page: u32,
    pub limit: u32,
    pub cursor: Option<(Value, String)>,
    pub sort: SortField,
    pub order: Order,
    pub prompt_type: Option<PromptType>,
    pub is_favorite: Option<bool>,
    /// Every one must be on the scenario (folded).
    pub tags: Vec<String>,
    pub date_from: Option<OffsetDateTime>,
    pub date_to: Option<OffsetDateTime>,
    /// The search's folded words (each must start a word of the scenario).
    pub words: Vec<String>,
}

impl Listing {
    /// Reads the query; `search` requires `q` (1–100 characters), the listing refuses it.
    pub fn from_request(req: &ApiRequest, search: bool) -> ApiResult<Self> {
        let raw: RawQuery = req.query_as()?;
        let paging = PageRequest::from_request(req)?;
        let cursor = paging.cursor.as_ref().map(read_cursor).transpose()?;
        let is_favorite = match raw.is_favorite.as_deref() {
            None | Some("") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::validation("isFavorite", "must be true or false")),
        };
        if raw.tags.as_deref().is_some_and(|t| t.chars().count() > 1000) {
            return Err(ApiError::validation("tags", "must be at most 1000 characters"));
        }
        let tags: Vec<String> = raw
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|t| text::fold(t.trim()))
            .filter(|t| !t.is_empty())
            .collect();
        if tags.len() > 20 {
            return Err(ApiError::validation("tags", "at most 20 tags"));
        }
        let date_from = date(&raw.date_from, "dateFrom", false)?;
        let date_to = date(&raw.date_to, "dateTo", true)?;
        if let (Some(from), Some(to)) = (date_from, date_to)
            && from > to
        {
            return Err(ApiError::validation("dateTo", "must not be before dateFrom"));
        }
        let words = match (search, raw.q.as_deref().map(str::trim)) {
            (true, Some(q)) if !q.is_empty() && q.chars().count() <= 100 => {
                let words = text::words(q);
                if words.is_empty() {
                    return Err(ApiError::validation("q", "must contain a letter or digit"));
                }
                words
            }
            (true, _) => return Err(ApiError::validation("q", "is required, 1 to 100 characters")),
            (false, Some(_)) => return Err(ApiError::validation("q", "searching is GET /api/scenarios/search")),
            (false, None) => Vec::new(),
        };
        Ok(Listing {
            page: paging.page,
            limit: paging.limit,
            cursor,
            sort: raw.sort.unwrap_or_default(),
            order: raw.order.unwrap_or_default(),
            prompt_type: raw.prompt_type,
            is_favorite,
            tags,
            date_from,
            date_to,
            words,
        })
    }

    /// Whether `scenario` passes the filters (deleted ones never do).
    pub fn keeps(&self, scenario: &HistoryEntry) -> bool {
        if scenario.is_deleted() {
            return false;
        }
        if self.prompt_type.is_some_and(|t| t != scenario.prompt_type) {
            return false;
        }
        if self.is_favorite.is_some_and(|f| f != scenario.is_favorite) {
            return false;
        }
        if !self.tags.is_empty() {
            let own: Vec<String> = scenario.tags.iter().map(|t| text::fold(t)).collect();
            if !self.tags.iter().all(|t| own.contains(t)) {
                return false;
            }
        }
        if self.date_from.is_some() || self.date_to.is_some() {
            let Ok(created) = OffsetDateTime::parse(&scenario.created_at, &Rfc3339) else { return false };
            if self.date_from.is_some_and(|from| created < from) || self.date_to.is_some_and(|to| created > to) {
                return false;
            }
        }
        true
    }

    /// Whether the search `terms` hold every word of the query (each starting a term).
    pub fn matches(&self, terms: &str) -> bool {
        self.words.iter().all(|w| terms.starts_with(w.as_str()) || terms.contains(&format!(" {w}")))
    }

    /// Sorts the kept rows and cuts the page (by cursor when one was given,
    /// else by page number); reads the page's scenarios the rows do not hold.
    /// The answer's `{scenarios, pagination}`.
    pub async fn page(&self, ctx: &AppContext, owner: &UserId, mut kept: Vec<HistoryRow>) -> ApiResult<Value> {
        kept.sort_by(|a, b| self.compare(&a.entry, &b.entry));
        let total = kept.len() as u64;
        let start = match &self.cursor {
            Some((value, id)) => kept.partition_point(|row| self.before_or_at(&row.entry, value, id)),
            None => (self.page as usize - 1).saturating_mul(self.limit as usize).min(kept.len()),
        };
        let end = (start + self.limit as usize).min(kept.len());
        let next_cursor = (end < kept.len() && end > start).then(|| {
            let last = &kept[end - 1].entry;
            let mut position = Item::new();
            position.insert("v".into(), sort_value(last, self.sort));
            position.insert("id".into(), json!(last.id));
            encode_cursor(&position)
        });
        let page = if self.cursor.is_some() { 1 + (start / self.limit as usize) as u32 } else { self.page };
        let mut pagination = serde_json::to_value(Pagination::new(page, self.limit, total)).unwrap_or_default();
        if let Value::Object(p) = &mut pagination {
            p.insert("nextCursor".into(), next_cursor.map_or(Value::Null, Value::String));
        }
        let rows = &kept[start..end];
        let unread: Vec<ScenarioId> = rows
            .iter()
            .filter(|row| row.untexted.is_none())
            .map(|row| ScenarioId::from_trusted(row.entry.id.clone()))
            .collect();
        let mut read: HashMap<String, Scenario> = if unread.is_empty() {
            HashMap::new()
        } else {
            store::get_many(ctx, owner, &unread).await?.into_iter().map(|s| (s.id.clone(), s)).collect()
        };
        // In the page's order; a scenario deleted since its entry was read is left out.
        let scenarios: Vec<Value> = rows
            .iter()
            .filter_map(|row| match &row.untexted {
                Some(scenario) => Some(listed(scenario)),
                None => read.remove(&row.entry.id).as_ref().map(listed),
            })
            .collect();
        Ok(json!({"scenarios": scenarios, "pagination": pagination}))
    }

    fn compare(&self, a: &HistoryEntry, b: &HistoryEntry) -> Ordering {
        let by_value = compare_values(&sort_value(a, self.sort), &sort_value(b, self.sort));
        let ordering = by_value.then_with(|| a.id.cmp(&b.id));
        if self.order == Order::Desc { ordering.reverse() } else { ordering }
    }

    /// Whether `s` sorts at or before the cursor position (it was on an earlier page).
    fn before_or_at(&self, s: &HistoryEntry, value: &Value, id: &str) -> bool {
        let ordering = compare_values(&sort_value(s, self.sort), value).then_with(|| s.id.as_str().cmp(id));
        let ordering = if self.order == Order::Desc { ordering.reverse() } else { ordering };
        ordering != Ordering::Greater
    }
}

/// A scenario as the history lists it: without its text.
pub fn listed(scenario: &Scenario) -> Value {
    let mut value = serde_json::to_value(scenario).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        for field in TEXT_FIELDS {
            map.remove(field);
        }
    }
    value
}

fn sort_value(s: &HistoryEntry, sort: SortField) -> Value {
    match sort {
        SortField::CreatedAt => json!(s.created_at),
        SortField::UpdatedAt => json!(s.updated_at),
        // Unrated sorts below every rating.
        SortField::Rating => json!(s.rating.map_or(0, u64::from)),
        SortField::ViewCount => json!(s.view_count),
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or_default().partial_cmp(&y.as_f64().unwrap_or_default()).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

fn read_cursor(item: &Map<String, Value>) -> ApiResult<(Value, String)> {
    match (item.get("v"), item.get("id").and_then(Value::as_str)) {
        (Some(v @ (Value::String(_) | Value::Number(_))), Some(id)) if id.len() <= 64 => {
            Ok((v.clone(), id.to_string()))
        }
        _ => Err(ApiError::validation("cursor", "is not a cursor this API gave out")),
    }
}

/// `2026-11-27` (the whole day: its start, or with `end` its last instant) or an RFC 3339 time.
fn date(value: &Option<String>, field: &str, end: bool) -> ApiResult<Option<OffsetDateTime>> {
    let Some(raw) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(Some(at));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(raw, &format)
        .map_err(|_| ApiError::validation(field, "must be a date (2026-11-27) or an RFC 3339 time"))?;
    let at = if end { day.with_hms_nano(23, 59, 59, 999_999_999) } else { day.with_hms(0, 0, 0) };
    Ok(at.ok().map(|t| t.assume_utc()))
}
