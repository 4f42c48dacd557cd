//! Notifications (`keys::notification`): likes, comments, replies, follows
//! and moderation outcomes. Never for one's own action. Likes of one target
//! within an hour gather into one notification (its `count` grows), so a
//! burst of likes is not a burst of notifications. Sending is best effort:
//! the action it reports is saved already, and a notification that could
//! not be written is logged, never the action's error.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Item, PK, SK, TTL, Update};

/// How long a notification is kept.
pub const KEEP_DAYS: i64 = 90;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Someone liked the recipient's post or comment.
    Like,
    /// Someone commented on the recipient's post.
    Comment,
    /// Someone replied to the recipient's comment.
    Reply,
    /// Someone followed the recipient.
    Follow,
    /// A moderator acted on the recipient's content or account, or on a
    /// report the recipient filed.
    Moderation,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Like => "like",
            Kind::Comment => "comment",
            Kind::Reply => "reply",
            Kind::Follow => "follow",
            Kind::Moderation => "moderation",
        }
    }
}

/// A notification to send.
#[derive(Clone, Debug)]
pub struct Notice {
    pub kind: Kind,
    /// Who did it (none for a moderation outcome).
    pub actor: Option<UserId>,
    /// What it is about: `post`, `comment`, `user`, `scenario`, `share`.
    pub target_type: &'static str,
    pub target_id: String,
    /// The post a comment or like belongs to, so a client can link it.
    pub post_id: Option<String>,
    /// A short excerpt (a comment's first words, a moderator's note).
    pub text: Option<String>,
}

/// The longest excerpt a notification keeps, in characters.
const EXCERPT_CHARS: usize = 140;

/// Sends `notice` to `recipient`, unless the recipient did it. Best effort.
pub async fn send(ctx: &AppContext, recipient: &UserId, notice: Notice) {
    if notice.actor.as_ref() == Some(recipient) {
        return;
    }
    if let Err(e) = deliver(ctx, recipient, &notice).await {
        tracing::warn!(user_id = %recipient, kind = notice.kind.name(), error = %e, "could not write a notification");
    }
}

async fn deliver(ctx: &AppContext, recipient: &UserId, notice: &Notice) -> ApiResult<()> {
    if notice.kind != Kind::Like {
        return create(ctx, recipient, notice, None).await;
    }
    // A like joins the unread notification of the same target made within
    // the hour, when there is one; the group item names it.
    let group = keys::notification_group(recipient, notice.kind.name(), &notice.target_id);
    for _ in 0..4 {
        let id = ctx.ids.ulid().to_string();
        let mut item = Item::new();
        item.insert(PK.into(), json!(group.pk));
        item.insert(SK.into(), json!(group.sk));
        item.insert("notificationId".into(), json!(id));
        item.insert("createdAt".into(), json!(now_ms(ctx)));
        item.insert(TTL.into(), json!((ctx.clock.now() + time::Duration::hours(1)).unix_timestamp()));
        match ctx.table.put(item, Some(Cond::NotExists)).await {
            Ok(()) => return create(ctx, recipient, notice, Some(id)).await,
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) = ctx.table.get(&group).await? else { continue };
        let Some(id) = existing.get("notificationId").and_then(Value::as_str) else { continue };
        let update = Update::new()
            .add("count", 1)
            .set("actorId", json!(notice.actor.as_ref().map(UserId::as_str)))
            .set("updatedAt", rfc3339(ctx.clock.now()));
        match ctx.table.update(&keys::notification(recipient, false, id), update, Some(Cond::Exists)).await {
            Ok(_) => return Ok(()),
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
        // The notification is not unread: either the request that made the
        // group has not written it yet (a moment later it has), or it was
        // read, and the next like starts a new one: the group goes.
        let young = existing.get("createdAt").and_then(Value::as_i64).is_some_and(|at| now_ms(ctx) - at < 2_000);
        if young {
            super::backoff(3).await;
        } else {
            let mine = Cond::eq("notificationId", id);
            match ctx.table.delete(&group, Some(mine)).await {
                Ok(_) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    create(ctx, recipient, notice, None).await
}

fn now_ms(ctx: &AppContext) -> i64 {
    (ctx.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
}

async fn create(ctx: &AppContext, recipient: &UserId, notice: &Notice, id: Option<String>) -> ApiResult<()> {
    let id = id.unwrap_or_else(|| ctx.ids.ulid().to_string());
    let key = keys::notification(recipient, false, &id);
    let now = ctx.clock.now();
    let text = notice.text.as_deref().map(|t| t.chars().take(EXCERPT_CHARS).collect::<String>());
    let fields = json!({
        "id": id,
        "type": notice.kind,
        "actorId": notice.actor.as_ref().map(UserId::as_str),
        "targetType": notice.target_type,
        "targetId": notice.target_id,
        "postId": notice.post_id,
        "text": text,
        "count": 1,
        "createdAt": rfc3339(now),
        "updatedAt": rfc3339(now),
    });
    let Value::Object(mut item) = fields else { return Err(ApiError::internal("a notification is not an object")) };
    item.retain(|_, v| !v.is_null());
    item.insert(PK.into(), json!(key.pk));
    item.insert(SK.into(), json!(key.sk));
    item.insert(TTL.into(), json!((now + time::Duration::days(KEEP_DAYS)).unix_timestamp()));
    ctx.table.put(item, Some(Cond::NotExists)).await?;
    Ok(())
}
