//! `PATCH /api/admin/users/{userId}`: an admin changes an account's role,
//! its status (active; suspended until a time; banned) and grants or takes
//! credits through the ledger. Never one's own account; never the last
//! active admin out of office (`whatif_shared::accounts::roles`). A
//! suspension or ban takes effect at once on every function and closes the
//! account's sessions. Each change is one audit entry.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::accounts::roles::{self, Change};
use whatif_shared::accounts::store;
use whatif_shared::accounts::user::AccountStatus;
use whatif_shared::audit::{self, Entry};
use whatif_shared::auth::Role;
use whatif_shared::context::AppContext;
use whatif_shared::credits;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId};

use crate::users_list::AdminUser;

/// The statuses an admin may set (deletion is the account owner's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SetStatus {
    Active,
    Suspended,
    Banned,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub status: Option<SetStatus>,
    /// When a suspension ends (RFC 3339, in the future, within 10 years); required with `suspended`.
    #[serde(default)]
    pub suspended_until: Option<String>,
    /// Credits to grant (positive) or take (negative), through the ledger.
    #[serde(default)]
    #[schemars(range(min = -10_000_000, max = 10_000_000))]
    pub credits: Option<i64>,
    /// Why (kept in the audit log; the ledger's reason for credits).
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAnswer {
    pub user: AdminUser,
    /// The balance after a credits change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
}

/// 403 for an action on one's own account through the admin routes.
pub fn not_yourself() -> ApiError {
    ApiError::forbidden("Admins and moderators do not act on their own account here").with_code("SELF_ACTION")
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?;
    let target = UserId::from(req.path_ulid("userId")?);
    let body: UpdateBody = req.json()?;
    if body.role.is_none() && body.status.is_none() && body.credits.is_none() {
        return Err(ApiError::validation("role", "send role, status or credits"));
    }
    let note = body.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::validation("note", "must be at most 200 characters"));
    }
    if body.credits == Some(0) {
        return Err(ApiError::validation("credits", "must not be 0"));
    }
    let status = match (body.status, body.suspended_until.as_deref()) {
        (Some(SetStatus::Suspended), Some(raw)) => Some((AccountStatus::Suspended, Some(suspension_end(&ctx, raw)?))),
        (Some(SetStatus::Suspended), None) => {
            return Err(ApiError::validation("suspendedUntil", "is required to suspend"));
        }
        (_, Some(_)) => return Err(ApiError::validation("suspendedUntil", "goes with status: suspended")),
        (Some(SetStatus::Active), None) => Some((AccountStatus::Active, None)),
        (Some(SetStatus::Banned), None) => Some((AccountStatus::Banned, None)),
        (None, None) => None,
    };
    if target == me.id() {
        return Err(not_yourself());
    }
    let actor = roles::actor(&ctx, &me.id(), me.role).await?;
    let change = Change { role: body.role, status };
    let action = match (body.role, status) {
        (Some(_), Some(_)) => "user.role_and_status",
        (Some(_), None) => "user.role",
        _ => "user.status",
    };
    let mut user = match store::get_user(&ctx, target.as_str()).await? {
        Some(user) if user.status != AccountStatus::Deleted => user,
        _ => return Err(ApiError::not_found("User")),
    };
    if change.role.is_some() || change.status.is_some() {
        user = roles::apply(&ctx, &actor, &target, &change, Some(action), note, Some(&req.request_id)).await?;
    }
    let mut balance = None;
    if let Some(amount) = body.credits {
        let before = credits::account(&ctx, &target).await?.balance;
        let entry = Entry::new(actor, "user.credits", "user", target.as_str())
            .target_name(Some(user.username.clone().unwrap_or_else(|| user.email.clone())))
            .change(json!({"balance": before}), json!({"balance": before + amount, "credits": amount}))
            .note(note.map(str::to_string))
            .request(&req.request_id);
        let reason = note.unwrap_or(if amount > 0 { "granted by an admin" } else { "taken by an admin" });
        let account = credits::admin_grant(&ctx, &target, amount, reason, vec![audit::op(&ctx, entry)?]).await?;
        balance = Some(account.balance);
    }
    let now = ctx.clock.epoch_seconds();
    Ok(Reply::ok(UpdateAnswer { user: AdminUser::of(&user, now), balance }).message("Account updated"))
}

/// A suspension's end: RFC 3339, in the future, within 10 years (epoch seconds).
pub fn suspension_end(ctx: &AppContext, raw: &str) -> ApiResult<i64> {
    let bad = || ApiError::validation("suspendedUntil", "must be an RFC 3339 time in the next 10 years");
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| bad())?;
    let now = ctx.clock.now();
    if at <= now || at > now + time::Duration::days(3653) {
        return Err(bad());
    }
    Ok(at.unix_timestamp())
}
