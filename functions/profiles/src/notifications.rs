//! `GET /api/notifications`: the caller's notifications, unread first, each
//! group newest first (`unreadOnly=true` keeps the unread ones), with the
//! card of who did it and the unread count. One query: unread ones sort
//! after read ones in the partition, so reading it backward gives exactly
//! this order (`keys::notification`).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, page_in_memory};
use whatif_shared::ports::table::{Index, Item, Query, SK, SortKey, query_all};
use whatif_shared::social::authors::{self, Author};
use whatif_shared::social::notify::Kind;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

/// The most notifications a listing reads (they expire after 90 days).
pub const MAX_NOTIFICATIONS: usize = 2_000;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub unread_count: u64,
    pub pagination: Pagination,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Who did it (absent for a moderation outcome).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Author>,
    pub target_type: String,
    pub target_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How many events it gathers (likes of one target within the hour).
    pub count: u64,
    pub read: bool,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?.id();
    let unread_only = match req.query_param("unreadOnly") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::validation("unreadOnly", "must be true or false")),
    };
    let paging = PageRequest::from_request(&req)?;
    let items = all_of(&ctx, &me).await?;
    let unread_count = items.iter().filter(|i| is_unread(i)).count() as u64;
    let listed: Vec<&Item> = items.iter().filter(|i| !unread_only || is_unread(i)).collect();
    let (page_items, pagination, next_cursor) = page_in_memory(&listed, &paging, |item| sort_key(item).to_string())?;
    let actors: Vec<UserId> = page_items.iter().filter_map(|i| text(i, "actorId")).map(UserId::from_trusted).collect();
    let cards = authors::cards(&ctx, &actors).await?;
    let notifications = page_items.iter().filter_map(|item| read(item, &cards)).collect();
    Ok(Reply::ok(NotificationList { notifications, unread_count, pagination, next_cursor }))
}

/// Every notification of `user`, unread first, each group newest first.
pub async fn all_of(ctx: &AppContext, user: &UserId) -> ApiResult<Vec<Item>> {
    let query = Query::partition(Index::Primary, keys::notifications_of(user)).backward();
    Ok(query_all(ctx.table.as_ref(), query, MAX_NOTIFICATIONS).await?)
}

/// The unread notifications of `user`, newest first.
pub async fn unread_of(ctx: &AppContext, user: &UserId) -> ApiResult<Vec<Item>> {
    let query = Query::partition(Index::Primary, keys::notifications_of(user))
        .sk(SortKey::BeginsWith(keys::NOTE_UNREAD.into()))
        .backward();
    Ok(query_all(ctx.table.as_ref(), query, MAX_NOTIFICATIONS).await?)
}

fn sort_key(item: &Item) -> &str {
    text(item, SK).unwrap_or_default()
}

fn is_unread(item: &Item) -> bool {
    sort_key(item).starts_with(keys::NOTE_UNREAD)
}

fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr).and_then(Value::as_str)
}

fn read(item: &Item, cards: &std::collections::HashMap<String, Author>) -> Option<Notification> {
    let kind: Kind = serde_json::from_value(item.get("type")?.clone()).ok()?;
    let actor = text(item, "actorId").map(|id| cards.get(id).cloned().unwrap_or_else(|| Author::anonymous(id)));
    Some(Notification {
        id: text(item, "id")?.to_string(),
        kind,
        actor,
        target_type: text(item, "targetType").unwrap_or_default().to_string(),
        target_id: text(item, "targetId").unwrap_or_default().to_string(),
        post_id: text(item, "postId").map(str::to_string),
        text: text(item, "text").map(str::to_string),
        count: item.get("count").and_then(Value::as_u64).unwrap_or(1),
        read: !is_unread(item),
        created_at: text(item, "createdAt").unwrap_or_default().to_string(),
        updated_at: text(item, "updatedAt").unwrap_or_default().to_string(),
    })
}
