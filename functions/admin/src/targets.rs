//! What a report is about, as a moderator sees it now (its content, or that
//! it is gone), and the actions that really happen to it: hiding it (gone
//! for everyone but its owner and moderators, from shares, feeds, search and
//! previews included) and removing it (deleted for good).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use whatif_shared::accounts::store as accounts;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Update};
use whatif_shared::scenarios::store;
use whatif_shared::social::{comments, posts};
use whatif_shared::{ApiError, ApiResult, ScenarioId, UserId, keys};

/// The longest excerpt of a target's text a queue item shows.
const EXCERPT: usize = 280;

/// A reported target as it is now.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    /// Whether it still exists.
    pub exists: bool,
    /// Whether a moderator hid it.
    pub hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

fn excerpt(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(EXCERPT).collect())
}

fn scenario_key(owner: &str, id: &str) -> (UserId, ScenarioId) {
    (UserId::from_trusted(owner), ScenarioId::from_trusted(id))
}

/// The target `kind`/`id` of `owner` as it is now.
pub async fn current(ctx: &AppContext, kind: &str, id: &str, owner: &str) -> ApiResult<TargetView> {
    match kind {
        "scenario" => {
            let (owner, id) = scenario_key(owner, id);
            Ok(match store::get_owned(ctx, &owner, &id).await? {
                Some(s) => TargetView {
                    exists: true,
                    hidden: s.is_hidden,
                    title: Some(s.title.clone()),
                    excerpt: excerpt(if s.summary.is_empty() { &s.content } else { &s.summary }),
                },
                None => TargetView::default(),
            })
        }
        "share" => Ok(match ctx.table.get(&keys::share(id)).await? {
            Some(share) if share.get("revokedAt").is_none_or(Value::is_null) => TargetView {
                exists: true,
                hidden: share.get("isHidden").and_then(Value::as_bool).unwrap_or(false),
                title: share.get("title").and_then(Value::as_str).map(str::to_string),
                excerpt: share.get("description").and_then(Value::as_str).and_then(excerpt),
            },
            _ => TargetView::default(),
        }),
        "user" => Ok(match accounts::get_user(ctx, id).await? {
            Some(user) => TargetView {
                exists: user.status != whatif_shared::accounts::user::AccountStatus::Deleted,
                hidden: false,
                title: user.username.clone().or(user.display_name.clone()),
                excerpt: user.bio.as_deref().and_then(excerpt),
            },
            None => TargetView::default(),
        }),
        "post" => Ok(match posts::get(ctx, id).await? {
            Some(post) => TargetView {
                exists: true,
                hidden: post.is_hidden,
                title: Some(post.title.clone()),
                excerpt: excerpt(&post.content),
            },
            None => TargetView::default(),
        }),
        "comment" => Ok(match comments::get(ctx, id).await? {
            Some(comment) => {
                TargetView { exists: true, hidden: comment.is_hidden, title: None, excerpt: excerpt(&comment.content) }
            }
            None => TargetView::default(),
        }),
        _ => Ok(TargetView::default()),
    }
}

/// Whether a target of `kind` can be hidden or removed (an account cannot:
/// its owner is suspended or banned instead).
pub fn can_hide_or_remove(kind: &str) -> bool {
    matches!(kind, "scenario" | "share" | "post" | "comment")
}

pub fn not_applicable(action: &str, kind: &str) -> ApiError {
    ApiError::unprocessable("ACTION_NOT_APPLICABLE", format!("A {kind} cannot be {action}; suspend or ban its owner"))
}

/// Hides the target from everyone but its owner and moderators.
pub async fn hide(ctx: &AppContext, kind: &str, id: &str, owner: &str) -> ApiResult<()> {
    match kind {
        "scenario" => {
            let (owner, id) = scenario_key(owner, id);
            store::edit(ctx, &owner, &id, None, |s| {
                if s.is_deleted() {
                    return Err(ApiError::not_found("Scenario"));
                }
                s.is_hidden = true;
                Ok(Vec::new())
            })
            .await?;
            Ok(())
        }
        "share" => {
            let update =
                Update::new().set("isHidden", true).set("updatedAt", rfc3339(ctx.clock.now())).add("version", 1);
            match ctx.table.update(&keys::share(id), update, Some(Cond::Exists)).await {
                Ok(_) => Ok(()),
                Err(StoreError::ConditionFailed) => Err(ApiError::not_found("Share")),
                Err(e) => Err(e.into()),
            }
        }
        "post" => posts::set_hidden(ctx, id, true).await.map(|_| ()),
        "comment" => comments::set_hidden(ctx, id, true).await.map(|_| ()),
        other => Err(not_applicable("hidden", other)),
    }
}

/// Removes the target for good.
pub async fn remove(ctx: &AppContext, kind: &str, id: &str, owner: &str) -> ApiResult<()> {
    match kind {
        "scenario" => {
            let (owner, id) = scenario_key(owner, id);
            let Some(scenario) = store::get_owned_even_deleted(ctx, &owner, &id).await? else {
                return Err(ApiError::not_found("Scenario"));
            };
            let marker = scenario.deleted_at.as_deref().map(|at| whatif_shared::ports::table::TxOp::Delete {
                key: keys::scenario_purge(at, &owner, &id),
                cond: None,
            });
            store::purge(ctx, &scenario, None, marker.into_iter().collect()).await?;
            Ok(())
        }
        "share" => {
            let now = rfc3339(ctx.clock.now());
            let update = Update::new()
                .set("isActive", false)
                .set("revokedAt", now.as_str())
                .set("updatedAt", now.as_str())
                .add("version", 1);
            match ctx.table.update(&keys::share(id), update, Some(Cond::Exists)).await {
                Ok(share) => {
                    if let Some(scenario) = share.get("scenarioId").and_then(Value::as_str) {
                        let pointer = keys::active_share(&ScenarioId::from_trusted(scenario));
                        match ctx.table.delete(&pointer, Some(Cond::eq("shareUrl", json!(id)))).await {
                            Ok(_) | Err(StoreError::ConditionFailed) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    Ok(())
                }
                Err(StoreError::ConditionFailed) => Err(ApiError::not_found("Share")),
                Err(e) => Err(e.into()),
            }
        }
        "post" => match posts::get(ctx, id).await? {
            Some(post) => posts::delete(ctx, &post).await,
            None => Err(posts::not_found()),
        },
        "comment" => match comments::get(ctx, id).await? {
            Some(comment) => comments::delete(ctx, &comment).await,
            None => Err(comments::not_found()),
        },
        other => Err(not_applicable("removed", other)),
    }
}
