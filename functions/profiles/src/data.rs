//! What the profiles service keeps of an account, for the data export and
//! the account's deletion: its follows (both ways), notifications,
//! achievements, counters and profile search items. Deletion ends every
//! follow through the same transaction as an unfollow, so the other
//! accounts' counts stay exact. (The counters, leaderboard rows and
//! achievements live in the account's own partition, which the account
//! owner removes last.)

use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::accounts::store;
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{Index, Item, Key, Query, SortKey, query_all};
use whatif_shared::routes::Access;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::social::{authors, follows, stats};
use whatif_shared::{ApiResult, UserId, keys};

use crate::notifications;

const ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite];

pub const OWNERS: &[DataOwner] = &[DataOwner {
    name: "social-graph",
    export: |c, u| Box::pin(export(c, u)),
    delete: |c, u| Box::pin(delete(c, u)),
    access: ACCESS,
}];

fn fields(item: &Item, names: &[&str]) -> Value {
    Value::Object(names.iter().filter_map(|n| Some((n.to_string(), item.get(*n)?.clone()))).collect())
}

async fn export(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let me = UserId::from_trusted(&user_id);
    let (following, followers) = follows::all_of(&ctx, &me).await?;
    let notes = notifications::all_of(&ctx, &me).await?;
    let achievements = query_all(
        ctx.table.as_ref(),
        Query::partition(Index::Primary, keys::user_partition(&me))
            .sk(SortKey::BeginsWith(keys::ACHIEVEMENT_PREFIX.into())),
        usize::MAX,
    )
    .await?;
    let counters = stats::get(&ctx, &me).await?;
    let social = json!({
        "following": following.iter().map(|f| fields(f, &["followeeId", "createdAt"])).collect::<Vec<_>>(),
        "followers": followers.iter().map(|f| fields(f, &["followerId", "createdAt"])).collect::<Vec<_>>(),
        "counters": counters,
        "achievements": achievements.iter().map(|a| fields(a, &["code", "earnedAt"])).collect::<Vec<_>>(),
        "notifications": notes
            .iter()
            .map(|n| fields(n, &["id", "type", "actorId", "targetType", "targetId", "postId", "text", "count", "createdAt", "updatedAt"]))
            .collect::<Vec<_>>(),
    });
    Ok(vec![ExportFile::json("social.json", &social)?])
}

async fn delete(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let me = UserId::from_trusted(&user_id);
    let (following, followers) = follows::all_of(&ctx, &me).await?;
    let id_of = |item: &Item, attr: &str| item.get(attr).and_then(Value::as_str).map(UserId::from_trusted);
    for follow in &following {
        if let Some(followee) = id_of(follow, "followeeId") {
            follows::unfollow(&ctx, &me, &followee).await?;
        }
    }
    for follow in &followers {
        if let Some(follower) = id_of(follow, "followerId") {
            follows::unfollow(&ctx, &follower, &me).await?;
        }
    }
    for note in notifications::all_of(&ctx, &me).await? {
        if let Some(key) = Key::of(&note) {
            ctx.table.delete(&key, None).await?;
        }
    }
    if let Some(user) = store::get_user(&ctx, &user_id).await? {
        let ops = authors::ops(Some(&user), None);
        if !ops.is_empty() {
            ctx.table.transact(ops).await?;
        }
    }
    tracing::info!(user_id = %user_id, following = following.len(), followers = followers.len(), "deleted the account's follows");
    Ok(())
}
