//! Achievements: earned from what the account really did, once each, with
//! the time earned (`keys::achievement`, put with `NotExists`). Most are
//! thresholds of the account's counters ([`check`], run after each change of
//! them); the others are awarded where their event happens ([`award`]: the
//! first share, in the sharing service). No route lets a client report
//! progress.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Index, Item, PK, Query, SK, SortKey, query_all};
use crate::social::stats::{Counter, SocialStats};

/// Every achievement there is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Achievement {
    FirstScenario,
    TenScenarios,
    FirstShare,
    FirstPost,
    FirstComment,
    TenLikesReceived,
    FirstFollower,
    TenFollowers,
}

impl Achievement {
    pub const ALL: [Achievement; 8] = [
        Achievement::FirstScenario,
        Achievement::TenScenarios,
        Achievement::FirstShare,
        Achievement::FirstPost,
        Achievement::FirstComment,
        Achievement::TenLikesReceived,
        Achievement::FirstFollower,
        Achievement::TenFollowers,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Achievement::FirstScenario => "first_scenario",
            Achievement::TenScenarios => "ten_scenarios",
            Achievement::FirstShare => "first_share",
            Achievement::FirstPost => "first_post",
            Achievement::FirstComment => "first_comment",
            Achievement::TenLikesReceived => "ten_likes_received",
            Achievement::FirstFollower => "first_follower",
            Achievement::TenFollowers => "ten_followers",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Achievement::FirstScenario => "First what-if",
            Achievement::TenScenarios => "Ten what-ifs",
            Achievement::FirstShare => "Spread the word",
            Achievement::FirstPost => "First post",
            Achievement::FirstComment => "Joined the conversation",
            Achievement::TenLikesReceived => "Ten likes",
            Achievement::FirstFollower => "First follower",
            Achievement::TenFollowers => "Ten followers",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Achievement::FirstScenario => "Generated a first scenario",
            Achievement::TenScenarios => "Have ten scenarios",
            Achievement::FirstShare => "Shared a scenario by link",
            Achievement::FirstPost => "Published a first post",
            Achievement::FirstComment => "Wrote a first comment",
            Achievement::TenLikesReceived => "Received ten likes on posts and comments",
            Achievement::FirstFollower => "Someone follows you",
            Achievement::TenFollowers => "Ten accounts follow you",
        }
    }

    /// The counter and the count that earn it, when a counter does.
    pub fn threshold(self) -> Option<(Counter, u64)> {
        match self {
            Achievement::FirstScenario => Some((Counter::Scenarios, 1)),
            Achievement::TenScenarios => Some((Counter::Scenarios, 10)),
            Achievement::FirstShare => None,
            Achievement::FirstPost => Some((Counter::Posts, 1)),
            Achievement::FirstComment => Some((Counter::Comments, 1)),
            Achievement::TenLikesReceived => Some((Counter::LikesReceived, 10)),
            Achievement::FirstFollower => Some((Counter::Followers, 1)),
            Achievement::TenFollowers => Some((Counter::Followers, 10)),
        }
    }

    fn by_code(code: &str) -> Option<Achievement> {
        Achievement::ALL.into_iter().find(|a| a.code() == code)
    }
}

fn count(stats: &SocialStats, counter: Counter) -> u64 {
    match counter {
        Counter::Followers => stats.followers,
        Counter::Following => stats.following,
        Counter::Posts => stats.posts,
        Counter::Scenarios => stats.scenarios,
        Counter::LikesReceived => stats.likes_received,
        Counter::Comments => stats.comments,
    }
}

/// An achievement as its owner sees it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Earned {
    pub code: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// When it was earned; absent while it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned_at: Option<String>,
    /// How far the account is (`current` of `target`), for those a count earns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Progress {
    pub current: u64,
    pub target: u64,
}

/// Awards `achievement` to `user`, once: `true` when this call earned it.
pub async fn award(ctx: &AppContext, user: &UserId, achievement: Achievement) -> ApiResult<bool> {
    let key = keys::achievement(user, achievement.code());
    let mut item = Item::new();
    item.insert(PK.into(), json!(key.pk));
    item.insert(SK.into(), json!(key.sk));
    item.insert("code".into(), json!(achievement.code()));
    item.insert("earnedAt".into(), json!(rfc3339(ctx.clock.now())));
    match ctx.table.put(item, Some(Cond::NotExists)).await {
        Ok(()) => {
            tracing::info!(user_id = %user, achievement = achievement.code(), "achievement earned");
            Ok(true)
        }
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Awards every achievement `stats` have reached that `user` has not earned yet.
pub async fn check(ctx: &AppContext, user: &UserId, stats: &SocialStats) -> ApiResult<()> {
    if reached(stats).next().is_none() {
        return Ok(());
    }
    let mut have = earned_at(ctx, user).await?;
    award_reached(ctx, user, stats, &mut have).await
}

/// The achievements `stats` have reached (earned or not).
fn reached(stats: &SocialStats) -> impl Iterator<Item = Achievement> + '_ {
    Achievement::ALL.into_iter().filter(|a| a.threshold().is_some_and(|(counter, n)| count(stats, counter) >= n))
}

/// Awards what `stats` have reached and `have` (what `user` has earned)
/// lacks, adding each award to `have`.
async fn award_reached(
    ctx: &AppContext,
    user: &UserId,
    stats: &SocialStats,
    have: &mut Vec<(Achievement, String)>,
) -> ApiResult<()> {
    for achievement in reached(stats) {
        if !have.iter().any(|(a, _)| *a == achievement) && award(ctx, user, achievement).await? {
            have.push((achievement, rfc3339(ctx.clock.now())));
        }
    }
    Ok(())
}

/// The achievements `user` has earned, with when.
async fn earned_at(ctx: &AppContext, user: &UserId) -> ApiResult<Vec<(Achievement, String)>> {
    let query = Query::partition(Index::Primary, keys::user_partition(user))
        .sk(SortKey::BeginsWith(keys::ACHIEVEMENT_PREFIX.into()));
    let items = query_all(ctx.table.as_ref(), query, 1000).await?;
    Ok(items
        .iter()
        .filter_map(|item| {
            let achievement = Achievement::by_code(item.get("code")?.as_str()?)?;
            let at = item.get("earnedAt").and_then(Value::as_str).unwrap_or_default().to_string();
            Some((achievement, at))
        })
        .collect())
}

/// Every achievement, earned ones (with when) first in the order earned,
/// then the others with the account's progress. Awards first what the
/// counters have reached, so one missed after an error is earned now.
pub async fn of(ctx: &AppContext, user: &UserId) -> ApiResult<Vec<Earned>> {
    // The counters and what was earned, read at once.
    let (stats, mut have) = futures::try_join!(super::stats::get(ctx, user), earned_at(ctx, user))?;
    // What the counters reached but no award says (a write that failed after its action).
    award_reached(ctx, user, &stats, &mut have).await?;
    let stats = &stats;
    have.sort_by(|a, b| a.1.cmp(&b.1));
    let mut out: Vec<Earned> = have
        .iter()
        .map(|(a, at)| Earned {
            code: a.code(),
            title: a.title(),
            description: a.description(),
            earned_at: Some(at.clone()),
            progress: None,
        })
        .collect();
    for achievement in Achievement::ALL {
        if have.iter().any(|(a, _)| *a == achievement) {
            continue;
        }
        out.push(Earned {
            code: achievement.code(),
            title: achievement.title(),
            description: achievement.description(),
            earned_at: None,
            progress: achievement
                .threshold()
                .map(|(counter, target)| Progress { current: count(stats, counter).min(target), target }),
        });
    }
    Ok(out)
}
