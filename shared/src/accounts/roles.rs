//! Changing an account's role and status (the admin routes, moderators'
//! report actions, and `whatif-local promote-admin`), with the rules that no
//! request can get around:
//!
//! - the change, the per-request status item, the account's search items,
//!   the count of active admins, the platform's counts of accounts by role
//!   and status, and the audit entry are one transaction;
//! - the last active admin is never demoted, suspended or banned: the count
//!   of active admins (`keys::admin_count`) only goes down under the
//!   condition that it is above one, so two admins demoting each other at
//!   once cannot both succeed;
//! - a suspension or ban takes effect at once on every function (the status
//!   item is read on every request, and tokens issued before it stop
//!   working) and closes every session, so nothing refreshes afterwards.

use serde_json::{Value, json};

use crate::accounts::sessions;
use crate::accounts::store;
use crate::accounts::user::{AccountStatus, User};
use crate::audit::{self, Actor, Entry};
use crate::auth::Role;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Index, Item, Key, PK, Query, SK, SortKey, TxOp, Update, query_all};
use crate::social::authors;
use crate::stats;

/// What to change; `None` leaves it.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub role: Option<Role>,
    /// The new status, and for a suspension when it ends (epoch seconds).
    pub status: Option<(AccountStatus, Option<i64>)>,
}

const ACTIVE: &str = "active";

/// Whether `user` counts as an active admin at `now`.
fn is_active_admin(user: &User, now: i64) -> bool {
    user.role == Role::Admin && user.status_at(now) == AccountStatus::Active
}

/// The suspension with an end that `user` is under, if any.
fn suspension_of(user: &User) -> Option<Key> {
    let until = user.suspended_until.filter(|_| user.status == AccountStatus::Suspended)?;
    Some(keys::suspension(until, &UserId::from_trusted(user.id.clone())))
}

/// The operations that keep the sweep's list of suspensions
/// (`keys::suspension`) in step with a change from `before` to `after`.
fn suspension_ops(before: &User, after: &User) -> Vec<TxOp> {
    let (old, new) = (suspension_of(before), suspension_of(after));
    if old == new {
        return Vec::new();
    }
    let mut ops: Vec<TxOp> = old.into_iter().map(|key| TxOp::Delete { key, cond: None }).collect();
    if let (Some(key), Some(until)) = (new, after.suspended_until) {
        let mut item = Item::new();
        item.insert(PK.into(), json!(key.pk));
        item.insert(SK.into(), json!(key.sk));
        item.insert("userId".into(), json!(after.id));
        item.insert("until".into(), json!(until));
        ops.push(TxOp::Put { item, cond: None });
    }
    ops
}

/// Ends every suspension whose time has run out (the hourly
/// `admin-suspensions` worker), as [`end_run_out_suspension`] does at a
/// sign-in; drops listed suspensions the account is no longer under.
/// Returns how many it ended.
pub async fn end_run_out_suspensions(ctx: &AppContext) -> ApiResult<usize> {
    let now = ctx.clock.epoch_seconds();
    let due = keys::suspension(now, &UserId::from_trusted("~"));
    let query = Query::partition(Index::Primary, keys::SUSPENSIONS).sk(SortKey::Le(due.sk));
    let mut ended = 0;
    for listed in query_all(ctx.table.as_ref(), query, 10_000).await? {
        let Some(key) = Key::of(&listed) else { continue };
        let user = match listed.get("userId").and_then(Value::as_str) {
            Some(id) => store::get_user(ctx, id).await?,
            None => None,
        };
        match user {
            Some(user) if suspension_of(&user).as_ref() == Some(&key) => {
                end_run_out_suspension(ctx, &user).await?;
                ended += 1;
            }
            // Lifted, changed or closed meanwhile by a path that did not list it.
            _ => {
                ctx.table.delete(&key, None).await?;
            }
        }
    }
    Ok(ended)
}

/// Ends `user`'s suspension when its time has run out, as a moderator
/// setting it active would: its name comes back to its content, search and
/// the leaderboards (`authors::ops`), and the audit log says why. Until
/// then the account may sign in (its status in effect is active) but stays
/// hidden; every sign-in starts a session, which calls this first.
pub async fn end_run_out_suspension(ctx: &AppContext, user: &User) -> ApiResult<()> {
    let ran_out =
        user.status == AccountStatus::Suspended && user.status_at(ctx.clock.epoch_seconds()) == AccountStatus::Active;
    if !ran_out {
        return Ok(());
    }
    let change = Change { role: None, status: Some((AccountStatus::Active, None)) };
    let target = UserId::from_trusted(user.id.clone());
    let note = Some("its time ran out; ended at the next sign-in");
    apply(ctx, &Actor::system(), &target, &change, Some("user.suspension_ended"), note, None).await.map(|_| ())
}

/// Applies `change` to the account `target` on behalf of `actor`, writing
/// one audit entry (`action`, with `note` and the request id) unless
/// `action` is `None` (the caller writes the entry of what it does). Returns the
/// account as it is afterwards (unchanged, and no entry, when nothing changes).
/// 404 when there is no such account; 409 `LAST_ADMIN` when the change would
/// leave no active admin.
pub async fn apply(
    ctx: &AppContext,
    actor: &Actor,
    target: &UserId,
    change: &Change,
    action: Option<&str>,
    note: Option<&str>,
    request_id: Option<&str>,
) -> ApiResult<User> {
    for attempt in 0..8 {
        let before = match store::get_user(ctx, target.as_str()).await? {
            Some(user) if user.status != AccountStatus::Deleted => user,
            _ => return Err(ApiError::not_found("User")),
        };
        let now = ctx.clock.epoch_seconds();
        let mut after = before.clone();
        if let Some(role) = change.role {
            after.role = role;
        }
        if let Some((status, until)) = change.status {
            after.status = status;
            after.suspended_until = if status == AccountStatus::Suspended { until } else { None };
        }
        if after == before {
            return Ok(before);
        }
        after.version = before.version + 1;
        after.updated_at = crate::clock::rfc3339(ctx.clock.now());
        let shut_out = after.status_at(now) != AccountStatus::Active;
        let facts = |u: &User| json!({"role": u.role, "status": u.status, "suspendedUntil": u.suspended_until});
        let entry = Entry::new(actor.clone(), action.unwrap_or_default(), "user", target.as_str())
            .target_name(Some(before.username.clone().unwrap_or_else(|| before.email.clone())))
            .change(facts(&before), facts(&after))
            .note(note.map(str::to_string));
        let entry = match request_id {
            Some(id) => entry.request(id),
            None => entry,
        };
        let mut status_update = Update::new()
            .set("status", after.status.as_str())
            .set("role", serde_json::to_value(after.role).map_err(ApiError::internal)?);
        status_update = match after.suspended_until {
            Some(until) => status_update.set("suspendedUntil", until),
            None => status_update.remove("suspendedUntil"),
        };
        if shut_out {
            status_update = status_update.set("tokensValidAfter", now);
        }
        let mut ops = vec![
            TxOp::Put { item: after.to_item()?, cond: Some(Cond::eq("version", before.version)) },
            TxOp::Update { key: keys::account_status(target), update: status_update, cond: None },
        ];
        let admin_delta = i64::from(is_active_admin(&after, now)) - i64::from(is_active_admin(&before, now));
        let guard_at = ops.len();
        if admin_delta != 0 {
            ensure_admin_count(ctx).await?;
            let cond = (admin_delta < 0).then(|| Cond::Gt(ACTIVE.into(), json!(1)));
            ops.push(TxOp::Update { key: keys::admin_count(), update: Update::new().add(ACTIVE, admin_delta), cond });
        }
        ops.extend(authors::ops(Some(&before), Some(&after)));
        ops.extend(suspension_ops(&before, &after));
        // The platform's counts of accounts by role and by status move with it.
        let mut moves: Vec<(String, i64)> = Vec::new();
        if before.role != after.role {
            moves.push((stats::counter(stats::USERS_ROLE, before.role.as_str()), -1));
            moves.push((stats::counter(stats::USERS_ROLE, after.role.as_str()), 1));
        }
        if before.status != after.status {
            moves.push((stats::counter(stats::USERS_STATUS, before.status.as_str()), -1));
            moves.push((stats::counter(stats::USERS_STATUS, after.status.as_str()), 1));
        }
        if !moves.is_empty() {
            let deltas: Vec<(&str, i64)> = moves.iter().map(|(name, by)| (name.as_str(), *by)).collect();
            stats::append(ctx, &mut ops, &deltas);
        }
        if action.is_some() {
            ops.push(audit::op(ctx, entry)?);
        }
        match ctx.table.transact(ops).await {
            Ok(()) => {
                if shut_out {
                    sessions::revoke_all(ctx, target.as_str(), None).await?;
                }
                tracing::info!(user_id = %target, action = action.unwrap_or("report"), "account changed");
                return Ok(after);
            }
            Err(StoreError::TransactionCanceled { failed }) if admin_delta < 0 && failed.contains(&guard_at) => {
                return Err(ApiError::conflict(
                    "LAST_ADMIN",
                    "This is the last active admin: make another admin first",
                ));
            }
            // The account changed meanwhile (or a concurrent transaction): read again.
            Err(StoreError::TransactionCanceled { .. }) => crate::social::backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "The account is being changed by other requests; try again").retry_after(1))
}

/// The operation that takes `user` out of the count of active admins when
/// it is one (its account is closing), conditional on another active admin
/// remaining; `None` for any other account. Its failure is [`last_admin`].
pub async fn leaving_admin_op(ctx: &AppContext, user: &User) -> ApiResult<Option<TxOp>> {
    if !is_active_admin(user, ctx.clock.epoch_seconds()) {
        return Ok(None);
    }
    ensure_admin_count(ctx).await?;
    Ok(Some(TxOp::Update {
        key: keys::admin_count(),
        update: Update::new().add(ACTIVE, -1),
        cond: Some(Cond::Gt(ACTIVE.into(), json!(1))),
    }))
}

/// 409: the change would leave no active admin.
pub fn last_admin() -> ApiError {
    ApiError::conflict("LAST_ADMIN", "This is the last active admin: make another admin first")
}

/// Makes sure the count of active admins exists: when it does not (the
/// first use), it is counted once from the users' directory.
async fn ensure_admin_count(ctx: &AppContext) -> ApiResult<()> {
    if ctx.table.get(&keys::admin_count()).await?.is_some() {
        return Ok(());
    }
    let now = ctx.clock.epoch_seconds();
    let mut active = 0;
    for user in directory(ctx).await? {
        if is_active_admin(&user, now) {
            active += 1;
        }
    }
    let key = keys::admin_count();
    let mut item = Item::new();
    item.insert(PK.into(), json!(key.pk));
    item.insert(SK.into(), json!(key.sk));
    item.insert(ACTIVE.into(), json!(active));
    match ctx.table.put(item, Some(Cond::NotExists)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The most accounts the directory is read for.
pub const MAX_DIRECTORY: usize = 50_000;

/// Every account (deleted ones included), newest first: the shards of the
/// users' directory read at once.
pub async fn directory(ctx: &AppContext) -> ApiResult<Vec<User>> {
    let shards = (0..keys::USER_DIRECTORY_SHARDS).map(|shard| {
        let query = Query::partition(Index::Gsi2, keys::user_directory_shard(shard)).backward();
        query_all(ctx.table.as_ref(), query, MAX_DIRECTORY)
    });
    let mut users: Vec<User> = futures::future::try_join_all(shards)
        .await?
        .into_iter()
        .flatten()
        .filter_map(|item| User::from_item(item).ok())
        .collect();
    users.sort_by(|a, b| (&b.created_at, &b.id).cmp(&(&a.created_at, &a.id)));
    users.truncate(MAX_DIRECTORY);
    Ok(users)
}

/// The actor an account is in the audit log: its id, name and role now.
pub async fn actor(ctx: &AppContext, id: &UserId, role: Role) -> ApiResult<Actor> {
    let name = store::get_user(ctx, id.as_str()).await?.map(|u| u.username.unwrap_or(u.email));
    Ok(Actor {
        id: id.to_string(),
        name,
        role: serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_string)),
    })
}
