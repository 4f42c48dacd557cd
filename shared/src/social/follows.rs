//! Who follows whom, read side (`keys::follow`; following and unfollowing
//! are `functions/profiles`).

use serde_json::Value;

use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{Index, Query, query_all};

/// Whether `follower` follows `followee` (a strongly consistent read).
pub async fn is_following(ctx: &AppContext, follower: &UserId, followee: &UserId) -> ApiResult<bool> {
    Ok(ctx.table.get(&keys::follow(follower, followee)).await?.is_some())
}

/// The accounts `user` follows, most recently followed first, at most `cap`.
pub async fn following(ctx: &AppContext, user: &UserId, cap: usize) -> ApiResult<Vec<UserId>> {
    let query = Query::partition(Index::Gsi1, keys::following_of(user)).backward();
    let items = query_all(ctx.table.as_ref(), query, cap).await?;
    Ok(items
        .iter()
        .filter_map(|item| item.get("followeeId").and_then(Value::as_str).map(UserId::from_trusted))
        .collect())
}
