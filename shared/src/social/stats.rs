//! Each account's social counters (`keys::social_stats`) and the leaderboards
//! made from them (`keys::board_row`).
//!
//! A counter changes only by an atomic ADD inside the transaction that makes
//! or removes what it counts ([`add`]), so it never drifts however many
//! requests race. Each change also adds one to `rev`. After a change,
//! [`after_change`] rewrites the account's leaderboard rows from the counters
//! it reads, each conditional on a newer `rev` than the row holds (the last
//! state wins, never an older one), and awards the achievements the counters
//! have reached. A row also holds what its account's card shows
//! (`authors::shown`), written by the transactions that change the profile
//! (`authors::ops`), so a board is read in one query.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, GSI1_PK, GSI1_SK, Item, Key, PK, TxOp, Update};
use crate::social::{achievements, authors};

/// What an account's counters count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Accounts that follow it.
    Followers,
    /// Accounts it follows.
    Following,
    /// Its posts.
    Posts,
    /// Its scenarios that are not deleted.
    Scenarios,
    /// Likes others gave its posts and comments.
    LikesReceived,
    /// Its comments.
    Comments,
}

impl Counter {
    pub fn attr(self) -> &'static str {
        match self {
            Counter::Followers => "followers",
            Counter::Following => "following",
            Counter::Posts => "posts",
            Counter::Scenarios => "scenarios",
            Counter::LikesReceived => "likesReceived",
            Counter::Comments => "comments",
        }
    }
}

const REV: &str = "rev";

/// The operation that adds `by` to `user`'s `counter`, for the transaction
/// that makes (or removes) what it counts. It creates the counters item when
/// there is none.
pub fn add(user: &UserId, counter: Counter, by: i64) -> TxOp {
    TxOp::Update {
        key: keys::social_stats(user),
        update: Update::new().add(counter.attr(), by).add(REV, 1),
        cond: None,
    }
}

/// An account's counters, and the reputation made from them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialStats {
    #[serde(default)]
    pub followers: u64,
    #[serde(default)]
    pub following: u64,
    #[serde(default)]
    pub posts: u64,
    #[serde(default)]
    pub scenarios: u64,
    #[serde(default)]
    pub likes_received: u64,
    #[serde(default)]
    pub comments: u64,
    /// 10 per follower, 5 per like received, 3 per post, 2 per scenario, 1 per comment.
    #[serde(default)]
    pub reputation: u64,
    #[serde(skip)]
    rev: i64,
}

impl SocialStats {
    fn from_item(item: Option<Item>) -> Self {
        let Some(item) = item else { return Self::default() };
        // A counter is never below zero; clamp anyway, so a count read
        // between a removal and its correction never shows as huge.
        let count = |attr: &str| item.get(attr).and_then(Value::as_i64).unwrap_or(0).max(0) as u64;
        let mut stats = SocialStats {
            followers: count(Counter::Followers.attr()),
            following: count(Counter::Following.attr()),
            posts: count(Counter::Posts.attr()),
            scenarios: count(Counter::Scenarios.attr()),
            likes_received: count(Counter::LikesReceived.attr()),
            comments: count(Counter::Comments.attr()),
            reputation: 0,
            rev: item.get(REV).and_then(Value::as_i64).unwrap_or(0),
        };
        stats.reputation =
            10 * stats.followers + 5 * stats.likes_received + 3 * stats.posts + 2 * stats.scenarios + stats.comments;
        stats
    }

    /// This account's score on `board`.
    pub fn score(&self, board: Board) -> u64 {
        match board {
            Board::Reputation => self.reputation,
            Board::Scenarios => self.scenarios,
            Board::Likes => self.likes_received,
        }
    }
}

/// `user`'s counters (zeros for an account with none yet), strongly consistent.
pub async fn get(ctx: &AppContext, user: &UserId) -> ApiResult<SocialStats> {
    Ok(SocialStats::from_item(ctx.table.get(&keys::social_stats(user)).await?))
}

/// The counters of each of `users`, by id (zeros for those with none).
pub async fn get_many(ctx: &AppContext, users: &[UserId]) -> ApiResult<HashMap<String, SocialStats>> {
    let mut out: HashMap<String, SocialStats> = users.iter().map(|u| (u.to_string(), SocialStats::default())).collect();
    let keys: Vec<Key> = users.iter().map(keys::social_stats).collect();
    for item in crate::ports::table::get_all(ctx.table.as_ref(), &keys).await? {
        let Some(pk) = item.get(PK).and_then(Value::as_str) else { continue };
        let id = pk.trim_start_matches("USER#").to_string();
        out.insert(id, SocialStats::from_item(Some(item)));
    }
    Ok(out)
}

/// A leaderboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Board {
    Reputation,
    Scenarios,
    Likes,
}

impl Board {
    pub const ALL: [Board; 3] = [Board::Reputation, Board::Scenarios, Board::Likes];

    pub fn name(self) -> &'static str {
        match self {
            Board::Reputation => "reputation",
            Board::Scenarios => "scenarios",
            Board::Likes => "likes",
        }
    }
}

/// After `user`'s counters changed: their leaderboard rows follow, and the
/// achievements the counters reached are awarded. Best effort: what it
/// writes is derived, and the next change (or reading one's achievements)
/// writes it again, so a failure here is logged, never the caller's error.
pub async fn after_change(ctx: &AppContext, user: &UserId) {
    if let Err(e) = refresh(ctx, user).await {
        tracing::warn!(user_id = %user, error = %e, "could not refresh the account's leaderboard rows and achievements");
    }
}

async fn refresh(ctx: &AppContext, user: &UserId) -> ApiResult<()> {
    let stats = get(ctx, user).await?;
    let rows = futures::future::try_join_all(Board::ALL.map(|board| write_row(ctx, user, board, &stats)));
    let (rows, ()) = futures::try_join!(rows, achievements::check(ctx, user, &stats))?;
    let bare: Vec<Key> = rows.into_iter().flatten().collect();
    if !bare.is_empty() {
        fill_cards(ctx, user, bare).await?;
    }
    Ok(())
}

/// Writes `user`'s row on `board` from `stats` (its card is left as it is);
/// returns the row's key when it has no card yet.
async fn write_row(ctx: &AppContext, user: &UserId, board: Board, stats: &SocialStats) -> ApiResult<Option<Key>> {
    let key = keys::board_row(user, board.name());
    let score = stats.score(board);
    let (gpk, gsk) = keys::board_entry(board.name(), score, user);
    let update = Update::new()
        .set(GSI1_PK, gpk)
        .set(GSI1_SK, gsk)
        .set("userId", user.as_str())
        .set("score", score)
        .set(REV, stats.rev);
    let newer = Cond::Or(vec![Cond::AttrNotExists(REV.into()), Cond::Lt(REV.into(), json!(stats.rev))]);
    match ctx.table.update(&key, update, Some(newer)).await {
        Ok(row) => Ok((!row.contains_key(CARD)).then_some(key)),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// Gives rows made before accounts had a card on them (and so before the
/// transactions that change a profile kept it) their account's card. Only
/// where there is none: a change of the profile since it was read here has
/// written the newer one.
async fn fill_cards(ctx: &AppContext, user: &UserId, rows: Vec<Key>) -> ApiResult<()> {
    let Some(account) = crate::accounts::store::get_user(ctx, user.as_str()).await? else { return Ok(()) };
    let shown = authors::shown(&account);
    let fill = rows
        .iter()
        .map(|key| ctx.table.update(key, Update::new().set_if_absent(CARD, shown.clone()), Some(Cond::Exists)));
    for result in futures::future::join_all(fill).await {
        match result {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The attribute of a leaderboard row that holds what its account's card
/// shows (`authors::shown`).
pub const CARD: &str = "card";

/// The operations that write `shown` (what an account's card shows now) on
/// its leaderboard rows, making a row that is not there yet; the row joins
/// its board's index when its counters are first written.
pub fn card_ops(user: &UserId, shown: Value) -> Vec<TxOp> {
    Board::ALL
        .map(|board| TxOp::Update {
            key: keys::board_row(user, board.name()),
            update: Update::new().set(CARD, shown.clone()),
            cond: None,
        })
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reputation_weighs_followers_likes_posts_scenarios_and_comments() {
        let mut item = Item::new();
        for (attr, n) in [("followers", 2), ("likesReceived", 3), ("posts", 4), ("scenarios", 5), ("comments", 6)] {
            item.insert(attr.into(), json!(n));
        }
        let stats = SocialStats::from_item(Some(item));
        assert_eq!(stats.reputation, 20 + 15 + 12 + 10 + 6);
        assert_eq!(stats.score(Board::Likes), 3);
        assert_eq!(stats.score(Board::Scenarios), 5);
    }

    #[test]
    fn a_counter_read_below_zero_shows_as_zero() {
        let mut item = Item::new();
        item.insert("followers".into(), json!(-1));
        assert_eq!(SocialStats::from_item(Some(item)).followers, 0);
    }
}
