//! The feeds: latest (public posts and public scenarios, newest first),
//! trending (the same over a time window, scored in memory) and following
//! (fan-out on read over the accounts the caller follows). docs/social.md
//! ("Feeds") has the access patterns and their costs.

use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, encode_cursor};
use whatif_shared::ports::table::{Index, Item, Query, SortKey, query_all};
use whatif_shared::social::follows;
use whatif_shared::social::posts::{self, Visibility};
use whatif_shared::{ApiError, ApiRequest, ApiResult, UserId, keys};

use crate::views::{self, Entry, FeedItem, Score};

/// One page of a feed. Feeds are open-ended: `pagination.total` counts the
/// entries up to the end of this page (plus one when more follow), and
/// `hasNext` says whether more follow; `nextCursor` reads the next page
/// without skipping or repeating anything, whatever was published meanwhile.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    pub pagination: Pagination,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

/// The longest `tags` filter, in characters.
pub const MAX_TAGS_PARAM: usize = 400;

/// The `tags` filter of a feed request: comma-separated, folded; 400 when
/// longer than [`MAX_TAGS_PARAM`].
pub fn tags_param(req: &ApiRequest) -> ApiResult<Vec<String>> {
    let raw = req.query_param("tags");
    if raw.is_some_and(|r| r.chars().count() > MAX_TAGS_PARAM) {
        return Err(ApiError::validation("tags", format!("must be at most {MAX_TAGS_PARAM} characters")));
    }
    Ok(posts::tag_filter(raw))
}

/// How many feed entries a tag-filtered page reads at most (10 queries of 100).
pub const MAX_FILTERED_READ: usize = 1000;
/// How deep `page` reaches in the latest and following feeds (entries
/// passed over); the cursor reaches every entry.
pub const MAX_PAGE_DEPTH: usize = 1000;
/// How many entries trending reads at most: the newest of the window.
pub const MAX_TRENDING_READ: usize = 2000;
/// How many followed accounts the following feed reads.
pub const MAX_FOLLOWING: usize = 1000;
/// How many activity partitions the following feed queries at once.
pub const FAN_OUT: usize = 32;

fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "is not a cursor this API gave out")
}

/// The position a cursor names (`before`: a feed sort key).
fn before(paging: &PageRequest) -> ApiResult<Option<String>> {
    match &paging.cursor {
        None => Ok(None),
        Some(cursor) => {
            cursor.get("before").and_then(Value::as_str).map(|s| Some(s.to_string())).ok_or_else(bad_cursor)
        }
    }
}

fn cursor_before(position: &str) -> String {
    let mut at = Item::new();
    at.insert("before".into(), json!(position));
    encode_cursor(&at)
}

/// The page answer: `skip` entries passed over, `more` whether others follow.
fn page_of(
    paging: &PageRequest,
    skip: usize,
    items: Vec<FeedItem>,
    more: bool,
    next_cursor: Option<String>,
) -> FeedPage {
    let total = (skip + items.len() + usize::from(more)) as u64;
    let mut pagination = Pagination::new(paging.page, paging.limit, total);
    pagination.has_next = more;
    pagination.has_prev = paging.page > 1 || paging.cursor.is_some();
    FeedPage { items, pagination, next_cursor: if more { next_cursor } else { None } }
}

/// The newest public posts and public scenarios (GSI2 `FEED`, backward):
/// one query for an unfiltered page, then one batch read for the authors
/// and the caller's likes. A `tags` filter keeps reading (at most
/// [`MAX_FILTERED_READ`] entries) until the page is full.
pub async fn latest(
    ctx: &AppContext,
    viewer: Option<&UserId>,
    paging: &PageRequest,
    tags: &[String],
) -> ApiResult<FeedPage> {
    let before = before(paging)?;
    let skip = if before.is_some() { 0 } else { paging.offset() };
    if skip >= MAX_PAGE_DEPTH {
        return Ok(page_of(paging, skip, Vec::new(), false, None));
    }
    let want = skip + paging.limit as usize + 1;
    let mut query = Query::partition(Index::Gsi2, keys::FEED).backward();
    if let Some(before) = &before {
        query = query.sk(SortKey::Lt(before.clone()));
    }
    // Unfiltered, every entry counts: one query of exactly what the page needs.
    query = query.limit(if tags.is_empty() { want } else { 100 });
    let (mut matched, mut read, mut last_read) = (Vec::new(), 0usize, None::<String>);
    let mut exhausted = false;
    loop {
        let page = ctx.table.query(&query).await?;
        read += page.items.len();
        for item in &page.items {
            let Some(entry) = Entry::from_item(item) else { continue };
            last_read = Some(entry.position());
            if listed(&entry) && entry.has_any(tags) && matched.len() < want {
                matched.push(entry);
            }
        }
        match page.next {
            Some(next) if matched.len() < want && read < MAX_FILTERED_READ => query = query.start(Some(next)),
            Some(_) => break,
            None => {
                exhausted = true;
                break;
            }
        }
    }
    let more = matched.len() > skip + paging.limit as usize || (!exhausted && matched.len() < want);
    let entries: Vec<Entry> = matched.into_iter().skip(skip).take(paging.limit as usize).collect();
    // A page cut short by the read bound continues after what was read.
    let next = if entries.len() < paging.limit as usize { last_read } else { entries.last().map(Entry::position) };
    let next = next.map(|p| cursor_before(&p));
    let items = views::feed_items(ctx, entries.into_iter().map(|e| (e, None)).collect(), viewer).await?;
    Ok(page_of(paging, skip, items, more, next))
}

/// Whether a public-feed entry may be shown to anyone (the partition only
/// holds such entries; this guards against an entry read mid-change).
fn listed(entry: &Entry) -> bool {
    match entry {
        Entry::Post(p) => p.is_listed(),
        Entry::Scenario(_) => true,
    }
}

/// The trending window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Timeframe {
    #[serde(rename = "1d")]
    Day,
    #[serde(rename = "7d")]
    #[default]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl Timeframe {
    pub const NAMES: &[&str] = &["1d", "7d", "30d"];

    pub fn parse(raw: Option<&str>) -> ApiResult<Timeframe> {
        match raw {
            None => Ok(Timeframe::Week),
            Some("1d") => Ok(Timeframe::Day),
            Some("7d") => Ok(Timeframe::Week),
            Some("30d") => Ok(Timeframe::Month),
            Some(_) => Err(ApiError::validation("timeframe", "must be one of: 1d, 7d, 30d")),
        }
    }

    fn days(self) -> i64 {
        match self {
            Timeframe::Day => 1,
            Timeframe::Week => 7,
            Timeframe::Month => 30,
        }
    }
}

/// The trending score: `(3·likes + 5·comments + views/10 + 1) / (ageHours + 2)^1.5`.
/// Engagement counts, a comment more than a like (it costs more), a view a
/// tenth of a like; the `+ 1` lets a new entry with nothing yet rank by age;
/// the age term (hours, plus two so the first hours do not divide by almost
/// nothing) makes yesterday's hit give way to today's.
pub fn score(likes: u64, comments: u64, views: u64, age_hours: f64) -> f64 {
    let engagement = 3.0 * likes as f64 + 5.0 * comments as f64 + views as f64 / 10.0 + 1.0;
    engagement / (age_hours.max(0.0) + 2.0).powf(1.5)
}

/// The public entries of the window, newest [`MAX_TRENDING_READ`] at most,
/// scored and ranked; one page of the ranking (`page`, or a cursor naming
/// the rank to start at).
pub async fn trending(
    ctx: &AppContext,
    viewer: Option<&UserId>,
    timeframe: Timeframe,
    paging: &PageRequest,
    tags: &[String],
) -> ApiResult<FeedPage> {
    let now = ctx.clock.now();
    let since = rfc3339(now - time::Duration::days(timeframe.days()));
    let query = Query::partition(Index::Gsi2, keys::FEED).sk(SortKey::Ge(since)).backward().limit(500);
    let items = query_all(ctx.table.as_ref(), query, MAX_TRENDING_READ).await?;
    let mut ranked: Vec<(Entry, Score)> = items
        .iter()
        .filter_map(Entry::from_item)
        .filter(|e| listed(e) && e.has_any(tags))
        .map(|entry| {
            let published = OffsetDateTime::parse(entry.published_at(), &Rfc3339).unwrap_or(now);
            let age_hours = ((now - published).whole_minutes().max(0) as f64) / 60.0;
            let (likes, comments, views) = entry.counts();
            let value = score(likes, comments, views, age_hours);
            (entry, Score { score: (value * 1e6).round() / 1e6, likes, comments, views, age_hours })
        })
        .collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| b.0.position().cmp(&a.0.position())));
    let start = match &paging.cursor {
        Some(cursor) => cursor.get("rank").and_then(Value::as_u64).ok_or_else(bad_cursor)? as usize,
        None => paging.offset(),
    };
    let end = (start + paging.limit as usize).min(ranked.len());
    let more = end < ranked.len();
    let next = more.then(|| {
        let mut at = Item::new();
        at.insert("rank".into(), json!(end));
        encode_cursor(&at)
    });
    let entries: Vec<(Entry, Option<Score>)> =
        ranked.into_iter().skip(start).take(end.saturating_sub(start)).map(|(e, s)| (e, Some(s))).collect();
    let items = views::feed_items(ctx, entries, viewer).await?;
    Ok(page_of(paging, start, items, more, next))
}

/// What the following feed shows of a followed account's activity: public
/// and followers-only posts, and public scenarios; never private, never hidden.
fn for_followers(entry: &Entry) -> bool {
    match entry {
        Entry::Post(p) => !p.is_hidden && matches!(p.visibility, Visibility::Public | Visibility::Followers),
        Entry::Scenario(_) => true,
    }
}

/// The newest entries of the accounts `viewer` follows (at most
/// [`MAX_FOLLOWING`], the most recently followed): fan-out on read. Each
/// followed account's activity partition (GSI1, backward, before the
/// cursor) is queried for one page, [`FAN_OUT`] at a time; the answers are
/// merged newest first and one page is returned.
pub async fn following(
    ctx: &AppContext,
    viewer: &UserId,
    paging: &PageRequest,
    tags: &[String],
) -> ApiResult<FeedPage> {
    let before = before(paging)?;
    let skip = if before.is_some() { 0 } else { paging.offset() };
    if skip >= MAX_PAGE_DEPTH {
        return Ok(page_of(paging, skip, Vec::new(), false, None));
    }
    let want = skip + paging.limit as usize + 1;
    let followed = follows::following(ctx, viewer, MAX_FOLLOWING).await?;
    let reads: Vec<_> =
        followed.into_iter().map(|account| activity(ctx, account, before.clone(), want, tags)).collect();
    let mut merged: Vec<Entry> = Vec::new();
    let mut answers = futures::stream::iter(reads).buffer_unordered(FAN_OUT);
    while let Some(answer) = answers.next().await {
        merged.extend(answer?);
    }
    merged.sort_by_key(|e| std::cmp::Reverse(e.position()));
    let more = merged.len() > skip + paging.limit as usize;
    let entries: Vec<Entry> = merged.into_iter().skip(skip).take(paging.limit as usize).collect();
    let next = entries.last().map(|e| cursor_before(&e.position()));
    let items = views::feed_items(ctx, entries.into_iter().map(|e| (e, None)).collect(), Some(viewer)).await?;
    Ok(page_of(paging, skip, items, more, next))
}

/// Up to `want` entries of one account's activity that its followers see,
/// newest first, before `before`: a query of `want`, another only when some
/// were left out (private or hidden posts), at most five.
async fn activity(
    ctx: &AppContext,
    account: UserId,
    before: Option<String>,
    want: usize,
    tags: &[String],
) -> ApiResult<Vec<Entry>> {
    let mut query = Query::partition(Index::Gsi1, keys::activity_of(&account)).backward().limit(want);
    if let Some(before) = before {
        query = query.sk(SortKey::Lt(before));
    }
    let mut out = Vec::new();
    for _ in 0..5 {
        let page = ctx.table.query(&query).await?;
        out.extend(page.items.iter().filter_map(Entry::from_item).filter(|e| for_followers(e) && e.has_any(tags)));
        match page.next {
            Some(next) if out.len() < want => query = query.start(Some(next)),
            _ => break,
        }
    }
    out.truncate(want);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_rewards_engagement_and_fades_with_age() {
        assert!(score(10, 0, 0, 1.0) > score(1, 0, 0, 1.0));
        assert!(score(0, 1, 0, 1.0) > score(1, 0, 0, 1.0), "a comment weighs more than a like");
        assert!(score(5, 5, 100, 1.0) > score(5, 5, 100, 48.0), "older fades");
        // (3·2 + 5·1 + 30/10 + 1) / (2 + 2)^1.5 = 15 / 8
        assert!((score(2, 1, 30, 2.0) - 15.0 / 8.0).abs() < 1e-9);
    }
}
