//! Who follows whom (`keys::follow`): the reads, and the one write of a
//! follow and its counters ([`follow`], [`unfollow`]) that the follow routes
//! of `functions/profiles` and the tests use.

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, TxOp, query_all};
use crate::social::posts;
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

/// Makes `follower` follow `followee` (write side, shared with
/// `functions/profiles`' follow route): the follow item with both counters
/// (`following` of the follower, `followers` of the followee) in one
/// transaction, conditional on there being no such follow yet, so counts
/// stay exact however many requests race. Returns `false` when the follow
/// existed already. Refreshes both accounts' leaderboards and achievements;
/// notifying is the caller's (it knows whether this was a user's action).
pub async fn follow(ctx: &AppContext, follower: &UserId, followee: &UserId) -> ApiResult<bool> {
    let key = keys::follow(follower, followee);
    let at = rfc3339(ctx.clock.now());
    let (g1_pk, g1_sk) = keys::following_entry(follower, &at, followee);
    let (g2_pk, g2_sk) = keys::follower_entry(followee, &at, follower);
    let mut item = Item::new();
    for (attr, value) in [
        (PK, key.pk),
        (SK, key.sk),
        (GSI1_PK, g1_pk),
        (GSI1_SK, g1_sk),
        (GSI2_PK, g2_pk),
        (GSI2_SK, g2_sk),
        ("followerId", follower.to_string()),
        ("followeeId", followee.to_string()),
        ("createdAt", at),
    ] {
        item.insert(attr.into(), json!(value));
    }
    let ops = vec![
        TxOp::Put { item, cond: Some(Cond::NotExists) },
        stats::add(follower, Counter::Following, 1),
        stats::add(followee, Counter::Followers, 1),
    ];
    changed(ctx, ops, follower, followee).await
}

/// Ends a follow (the follow item and both counters in one transaction,
/// conditional on the follow existing). Returns `false` when there was none.
pub async fn unfollow(ctx: &AppContext, follower: &UserId, followee: &UserId) -> ApiResult<bool> {
    let ops = vec![
        TxOp::Delete { key: keys::follow(follower, followee), cond: Some(Cond::Exists) },
        stats::add(follower, Counter::Following, -1),
        stats::add(followee, Counter::Followers, -1),
    ];
    changed(ctx, ops, follower, followee).await
}

async fn changed(ctx: &AppContext, ops: Vec<TxOp>, follower: &UserId, followee: &UserId) -> ApiResult<bool> {
    match posts::transact(ctx, ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    stats::after_change(ctx, follower).await;
    stats::after_change(ctx, followee).await;
    Ok(true)
}
