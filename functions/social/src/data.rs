//! What the social service stores of an account, for the data export and
//! the account's deletion: its posts, its comments and the likes it gave.
//!
//! Deletion corrects every count the account's content touched: the likes
//! it gave come off their targets' `likes` and their authors'
//! `likesReceived`; its comments come off their posts' `comments` (and the
//! threads' `replies`); its posts go with their comments by anyone (each
//! commenter's `comments` corrected) and their likes (the post author's
//! `likesReceived` is the account's own, removed with its partition).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::routes::Access;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::social::comments::{self, Also};
use whatif_shared::social::{likes, posts, stats};
use whatif_shared::{ApiResult, UserId};

const ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite];

pub const OWNERS: &[DataOwner] = &[DataOwner {
    name: "social",
    export: |c, u| Box::pin(export(c, u)),
    delete: |c, u| Box::pin(delete(c, u)),
    access: ACCESS,
}];

/// `social/posts.json`, `social/comments.json` and `social/likes.json`.
async fn export(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let user = UserId::from_trusted(&user_id);
    let posts: Vec<Value> = posts::of_author(&ctx, &user).await?.iter().map(|p| json!(p)).collect();
    let comments: Vec<Value> = comments::of_author(&ctx, &user).await?.iter().map(|c| json!(c)).collect();
    let likes: Vec<Value> = likes::given_by(&ctx, &user)
        .await?
        .into_iter()
        .map(|marker| {
            let field = |attr: &str| marker.get(attr).cloned().unwrap_or(Value::Null);
            json!({"targetType": field("targetType"), "targetId": field("targetId"), "postId": field("postId"), "createdAt": field("createdAt")})
        })
        .collect();
    Ok(vec![
        ExportFile::json("posts.json", &json!(posts))?,
        ExportFile::json("comments.json", &json!(comments))?,
        ExportFile::json("likes.json", &json!(likes))?,
    ])
}

/// Idempotent: a retried deletion finds what is left and finishes it.
async fn delete(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let user = UserId::from_trusted(&user_id);
    let mut touched: BTreeSet<UserId> = likes::remove_given(&ctx, &user).await?;
    let mut removed_comments = 0usize;
    for comment in comments::of_author(&ctx, &user).await? {
        // A reply whose thread is removed here first is gone by then: `remove` finds nothing.
        touched.extend(comments::remove(&ctx, &comment, Also::Counts).await?);
        removed_comments += 1;
    }
    let own_posts = posts::of_author(&ctx, &user).await?;
    for post in &own_posts {
        match posts::delete(&ctx, post).await {
            Ok(()) => {}
            Err(e) if e.status.as_u16() == 404 => {}
            Err(e) => return Err(e),
        }
    }
    touched.remove(&user);
    for account in &touched {
        stats::after_change(&ctx, account).await;
    }
    tracing::info!(user_id = %user_id, posts = own_posts.len(), comments = removed_comments, "deleted the account's posts, comments and likes");
    Ok(())
}
