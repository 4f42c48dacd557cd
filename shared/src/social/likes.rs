//! Likes (`keys::like`): one marker per account and target (a post or a
//! comment). A toggle reads the marker and, in one transaction, puts it (or
//! deletes it) with the target's `likes` and its author's `likesReceived`:
//! the marker's condition makes each account count once, and DynamoDB's
//! atomic ADD makes the counts exact however many toggles race. A
//! transaction that loses a race is read again and retried.
//!
//! Liking one's own post or comment is allowed and counts on the target,
//! but not in one's own `likesReceived` (which counts what others gave), and
//! notifies nobody.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, Index, Item, Key, PK, Query, SK, TxOp, Update, query_all};
use crate::social::backoff;
use crate::social::notify::{self, Kind, Notice};
use crate::social::posts::{MAX_TRIES, transact};
use crate::social::stats::{self, Counter};

/// What can be liked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Post,
    Comment,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Post => "post",
            Target::Comment => "comment",
        }
    }

    fn key(self, id: &str) -> Key {
        match self {
            Target::Post => keys::post(id),
            Target::Comment => keys::comment(id),
        }
    }

    fn from_name(name: &str) -> Option<Target> {
        match name {
            "post" => Some(Target::Post),
            "comment" => Some(Target::Comment),
            _ => None,
        }
    }
}

/// The state after a toggle, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Liked {
    pub likes: u64,
    pub is_liked: bool,
}

/// What a toggle is about.
#[derive(Clone, Debug)]
pub struct Liking<'a> {
    pub target: Target,
    pub target_id: &'a str,
    /// The target's author (whose `likesReceived` it counts in).
    pub author: &'a UserId,
    /// The post the target is, or is on (for the notification).
    pub post_id: &'a str,
}

/// Likes the target for `liker` when it is not liked yet, else takes the
/// like back. 404 when the target is gone. After a like: the author's
/// leaderboards and achievements follow, and the author is notified (likes
/// of one target within the hour gather into one notification).
pub async fn toggle(ctx: &AppContext, liker: &UserId, liking: Liking<'_>) -> ApiResult<Liked> {
    let Liking { target, target_id, author, post_id } = liking;
    let marker = keys::like(target.name(), target_id, liker);
    let target_key = target.key(target_id);
    let counts_for_author = liker != author;
    for attempt in 0..MAX_TRIES {
        let liked = ctx.table.get(&marker).await?.is_some();
        let by: i64 = if liked { -1 } else { 1 };
        let first = if liked {
            TxOp::Delete { key: marker.clone(), cond: Some(Cond::Exists) }
        } else {
            let now = rfc3339(ctx.clock.now());
            TxOp::Put {
                item: marker_item(liker, target, target_id, author, post_id, &now),
                cond: Some(Cond::NotExists),
            }
        };
        let mut ops = vec![
            first,
            TxOp::Update { key: target_key.clone(), update: Update::new().add("likes", by), cond: Some(Cond::Exists) },
        ];
        if counts_for_author {
            ops.push(stats::add(author, Counter::LikesReceived, by));
        }
        match transact(ctx, ops).await {
            Ok(()) => {
                let likes = ctx.table.get(&target_key).await?.as_ref().map_or(0, count_of);
                if counts_for_author {
                    stats::after_change(ctx, author).await;
                }
                if !liked {
                    let notice = Notice {
                        kind: Kind::Like,
                        actor: Some(liker.clone()),
                        target_type: target.name(),
                        target_id: target_id.to_string(),
                        post_id: Some(post_id.to_string()),
                        text: None,
                    };
                    notify::send(ctx, author, notice).await;
                }
                return Ok(Liked { likes, is_liked: !liked });
            }
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => {
                return Err(ApiError::not_found(if target == Target::Post { "Post" } else { "Comment" }));
            }
            // The marker changed meanwhile (another toggle of the same
            // account), or DynamoDB still reports a conflict: read again.
            Err(StoreError::TransactionCanceled { .. }) => backoff(attempt.min(6)).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("CONFLICT", "Too many changes at once, try again"))
}

/// A counter read from an item, never below zero.
pub fn count_of(item: &Item) -> u64 {
    item.get("likes").and_then(Value::as_i64).unwrap_or(0).max(0) as u64
}

fn marker_item(liker: &UserId, target: Target, target_id: &str, author: &UserId, post_id: &str, at: &str) -> Item {
    let key = keys::like(target.name(), target_id, liker);
    let (g_pk, g_sk) = keys::like_by_user(liker, at, target.name(), target_id);
    let mut item = Item::new();
    for (attr, value) in [
        (PK, key.pk),
        (SK, key.sk),
        (GSI1_PK, g_pk),
        (GSI1_SK, g_sk),
        ("userId", liker.to_string()),
        ("targetType", target.name().to_string()),
        ("targetId", target_id.to_string()),
        ("authorId", author.to_string()),
        ("postId", post_id.to_string()),
        ("createdAt", at.to_string()),
    ] {
        item.insert(attr.into(), json!(value));
    }
    item
}

/// The keys of `user`'s markers on `ids` (for one batch get with others).
pub fn marker_keys(user: &UserId, target: Target, ids: &[String]) -> Vec<Key> {
    ids.iter().map(|id| keys::like(target.name(), id, user)).collect()
}

/// The target ids among `items` (batch-get answers) that are `user`'s markers.
pub fn liked_among(items: &[Item], user: &UserId, target: Target) -> HashSet<String> {
    let prefix = format!("LIKE#{}#", target.name());
    items
        .iter()
        .filter(|i| i.get(SK).and_then(Value::as_str) == Some(user.as_str()))
        .filter_map(|i| i.get(PK).and_then(Value::as_str)?.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// Which of `ids` `user` has liked: batch gets of the markers, at once.
pub async fn liked(ctx: &AppContext, user: &UserId, target: Target, ids: &[String]) -> ApiResult<HashSet<String>> {
    let markers = crate::ports::table::get_all(ctx.table.as_ref(), &marker_keys(user, target, ids)).await?;
    Ok(liked_among(&markers, user, target))
}

/// Removes every like of a target that is gone (its deletion): each marker
/// with one less on the author's `likesReceived` (when the liker was someone
/// else). Returns the accounts whose counters changed.
pub async fn clear_target(
    ctx: &AppContext,
    target: Target,
    target_id: &str,
    author: &UserId,
) -> ApiResult<BTreeSet<UserId>> {
    let query = Query::partition(Index::Primary, keys::likes_of_target(target.name(), target_id));
    let mut touched = BTreeSet::new();
    for item in query_all(ctx.table.as_ref(), query, usize::MAX).await? {
        let Some(key) = Key::of(&item) else { continue };
        let mut ops = vec![TxOp::Delete { key: key.clone(), cond: Some(Cond::Exists) }];
        if key.sk != author.as_str() {
            ops.push(stats::add(author, Counter::LikesReceived, -1));
        }
        match transact(ctx, ops).await {
            Ok(()) => {
                if key.sk != author.as_str() {
                    touched.insert(author.clone());
                }
            }
            Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(touched)
}

/// Every like `user` gave (markers, oldest first): the account's export.
pub async fn given_by(ctx: &AppContext, user: &UserId) -> ApiResult<Vec<Item>> {
    let query = Query::partition(Index::Gsi1, keys::likes_by(user));
    Ok(query_all(ctx.table.as_ref(), query, usize::MAX).await?)
}

/// Takes back every like `user` gave (the account's deletion): each marker
/// with one less on its target's `likes` (while the target exists) and on
/// the target author's `likesReceived`. Returns the accounts whose counters
/// changed.
pub async fn remove_given(ctx: &AppContext, user: &UserId) -> ApiResult<BTreeSet<UserId>> {
    let mut touched = BTreeSet::new();
    for item in given_by(ctx, user).await? {
        let Some(key) = Key::of(&item) else { continue };
        let text = |attr: &str| item.get(attr).and_then(Value::as_str).unwrap_or_default().to_string();
        let (target, target_id, author) = (Target::from_name(&text("targetType")), text("targetId"), text("authorId"));
        let author = (!author.is_empty() && author != user.as_str()).then(|| UserId::from_trusted(author));
        let mut on_target = target.is_some();
        loop {
            let mut ops = vec![TxOp::Delete { key: key.clone(), cond: Some(Cond::Exists) }];
            if let (true, Some(target)) = (on_target, target) {
                let update = Update::new().add("likes", -1);
                ops.push(TxOp::Update { key: target.key(&target_id), update, cond: Some(Cond::Exists) });
            }
            if let Some(author) = &author {
                ops.push(stats::add(author, Counter::LikesReceived, -1));
            }
            match transact(ctx, ops).await {
                Ok(()) => {
                    touched.extend(author.clone());
                    break;
                }
                Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => break,
                // The target is gone: its deletion clears its likes; take this one now.
                Err(StoreError::TransactionCanceled { failed }) if on_target && failed.contains(&1) => {
                    on_target = false;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(touched)
}
