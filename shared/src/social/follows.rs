//! Who follows whom (`keys::follow`): the follow and both accounts' counters
//! change in one transaction, so the counts are exact under any race.

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, TxOp, query_all};
use crate::social::stats::{self, Counter};

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

/// What a follow or unfollow did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    /// It made the change.
    Yes,
    /// It was so already (following again, unfollowing someone not followed).
    Already,
}

/// Makes `follower` follow `followee`: the follow and both accounts'
/// counters in one transaction, so a repeat (or a race of repeats) counts
/// once. The caller checks that the two differ and that the followee may be
/// followed.
pub async fn follow(ctx: &AppContext, follower: &UserId, followee: &UserId) -> ApiResult<Changed> {
    let at = rfc3339(ctx.clock.now());
    let key = keys::follow(follower, followee);
    let (g1pk, g1sk) = keys::following_entry(follower, &at, followee);
    let (g2pk, g2sk) = keys::follower_entry(followee, &at, follower);
    let mut item = Item::new();
    for (attr, value) in [
        (PK, key.pk.as_str()),
        (SK, key.sk.as_str()),
        (GSI1_PK, g1pk.as_str()),
        (GSI1_SK, g1sk.as_str()),
        (GSI2_PK, g2pk.as_str()),
        (GSI2_SK, g2sk.as_str()),
        ("followerId", follower.as_str()),
        ("followeeId", followee.as_str()),
        ("createdAt", at.as_str()),
    ] {
        item.insert(attr.into(), json!(value));
    }
    let ops = vec![
        TxOp::Put { item, cond: Some(Cond::NotExists) },
        stats::add(followee, Counter::Followers, 1),
        stats::add(follower, Counter::Following, 1),
    ];
    let changed = transact(ctx, ops).await?;
    if changed == Changed::Yes {
        futures::join!(stats::after_change(ctx, followee), stats::after_change(ctx, follower));
    }
    Ok(changed)
}

/// Ends `follower`'s follow of `followee`, with both counters, in one transaction.
pub async fn unfollow(ctx: &AppContext, follower: &UserId, followee: &UserId) -> ApiResult<Changed> {
    let ops = vec![
        TxOp::Delete { key: keys::follow(follower, followee), cond: Some(Cond::Exists) },
        stats::add(followee, Counter::Followers, -1),
        stats::add(follower, Counter::Following, -1),
    ];
    let changed = transact(ctx, ops).await?;
    if changed == Changed::Yes {
        futures::join!(stats::after_change(ctx, followee), stats::after_change(ctx, follower));
    }
    Ok(changed)
}

/// Runs a follow's transaction: `Already` when its first operation's
/// condition fails; a conflict with a concurrent transaction is retried.
async fn transact(ctx: &AppContext, ops: Vec<TxOp>) -> ApiResult<Changed> {
    for attempt in 0..12 {
        match ctx.table.transact(ops.clone()).await {
            Ok(()) => return Ok(Changed::Yes),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => return Ok(Changed::Already),
            Err(StoreError::TransactionCanceled { failed }) if failed.is_empty() => super::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "Too many changes at once; try again").retry_after(1))
}

/// Every follow that involves `user`, either way (the account's export and deletion).
pub async fn all_of(ctx: &AppContext, user: &UserId) -> ApiResult<(Vec<Item>, Vec<Item>)> {
    let following = Query::partition(Index::Gsi1, keys::following_of(user));
    let followers = Query::partition(Index::Gsi2, keys::followers_of(user));
    Ok(futures::try_join!(
        query_all(ctx.table.as_ref(), following, usize::MAX),
        query_all(ctx.table.as_ref(), followers, usize::MAX)
    )?)
}
