//! `GET /api/profiles/{userId}/follows?type=followers|following`: a public
//! profile's followers, or the accounts it follows, most recent first. Each
//! is an author card (an account that is not public shows its id alone).
//! One query of the follows' index per page; the total is the profile's
//! counter. `cursor` continues after the last follow of a page, so follows
//! made meanwhile are neither skipped nor repeated.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, encode_cursor};
use whatif_shared::ports::table::{GSI1_SK, GSI2_SK, Index, Item, Query, SortKey};
use whatif_shared::social::authors::{self, Author};
use whatif_shared::social::stats;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

use crate::visible;

/// The deepest a `page` may reach (further pages need `cursor`).
const MAX_OFFSET: usize = 10_000;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowList {
    /// `followers` or `following`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub users: Vec<Follow>,
    pub pagination: Pagination,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    pub user: Author,
    pub followed_at: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = visible::path_user(&req)?;
    let followers = match req.query_param("type") {
        None | Some("followers") => true,
        Some("following") => false,
        Some(_) => return Err(ApiError::validation("type", "must be followers or following")),
    };
    let paging = PageRequest::from_request(&req)?;
    let (query, sort_attr, other) = if followers {
        (Query::partition(Index::Gsi2, keys::followers_of(&user)), GSI2_SK, "followerId")
    } else {
        (Query::partition(Index::Gsi1, keys::following_of(&user)), GSI1_SK, "followeeId")
    };
    // Whether the account shows, its counts and the page, at once (the page is dropped if it does not show).
    let (_, counts, (items, next_cursor, page)) = futures::try_join!(
        visible::public_account(&ctx, &user),
        stats::get(&ctx, &user),
        page_of(&ctx, query, sort_attr, &paging)
    )?;
    let total = if followers { counts.followers } else { counts.following };
    let ids: Vec<UserId> =
        items.iter().filter_map(|i| i.get(other).and_then(Value::as_str)).map(UserId::from_trusted).collect();
    let cards = authors::cards(&ctx, &ids).await?;
    let users = items
        .iter()
        .filter_map(|item| {
            let id = item.get(other)?.as_str()?;
            Some(Follow {
                user: cards.get(id).cloned().unwrap_or_else(|| Author::anonymous(id)),
                followed_at: item.get("createdAt").and_then(Value::as_str).unwrap_or_default().to_string(),
            })
        })
        .collect();
    let pagination = Pagination::new(page, paging.limit, total);
    Ok(Reply::ok(FollowList {
        kind: if followers { "followers" } else { "following" },
        users,
        pagination,
        next_cursor,
    }))
}

/// One page of a backward query on an index whose sort key is `sort_attr`:
/// after the cursor's sort key when there is one, else at `page`'s offset.
/// Returns the items, the next cursor and the page number.
pub async fn page_of(
    ctx: &AppContext,
    query: Query,
    sort_attr: &str,
    paging: &PageRequest,
) -> ApiResult<(Vec<Item>, Option<String>, u32)> {
    let limit = paging.limit as usize;
    let (query, skip, page) = match &paging.cursor {
        Some(cursor) => {
            let after = cursor.get("after").and_then(Value::as_str).ok_or_else(bad_cursor)?;
            (query.sk(SortKey::Lt(after.to_string())), 0, 1)
        }
        None if paging.offset() > MAX_OFFSET => {
            return Err(ApiError::validation("page", format!("reaches past {MAX_OFFSET} items; continue with cursor")));
        }
        None => (query, paging.offset(), paging.page),
    };
    let mut query = query.backward().limit(skip + limit + 1);
    let mut items = Vec::new();
    loop {
        let found = ctx.table.query(&query).await?;
        items.extend(found.items);
        match found.next {
            Some(next) if items.len() < skip + limit + 1 => query = query.start(Some(next)),
            _ => break,
        }
    }
    let more = items.len() > skip + limit;
    let items: Vec<Item> = items.into_iter().skip(skip).take(limit).collect();
    let next_cursor = match (more, items.last().and_then(|i| i.get(sort_attr))) {
        (true, Some(last)) => Some(encode_cursor(&Item::from_iter([("after".to_string(), json!(last))]))),
        _ => None,
    };
    Ok((items, next_cursor, page))
}

fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "is not a cursor this API gave out")
}
