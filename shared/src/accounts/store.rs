//! Reading and writing accounts: creation with unique email and username
//! claims in one transaction, lookups, lockout after failed sign-ins, and
//! changes that must keep the status item in step.

use serde_json::Value;

use super::types::{Email, Username};
use super::user::{AccountStatus, Preferences, User};
use crate::auth::{Plan, Role};
use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Item, PK, SK, TxOp, Update};

/// Failed password sign-ins before the account locks, and for how long.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCK_SECS: i64 = 15 * 60;

pub struct NewUser {
    pub email: Email,
    pub email_verified: bool,
    pub username: Option<Username>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    /// The OpenID Connect identity (provider, subject) the account is made from.
    pub oidc_link: Option<(String, String)>,
}

fn claim(key: crate::ports::Key, user_id: &str) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), key.pk.into());
    item.insert(SK.into(), key.sk.into());
    item.insert("userId".into(), user_id.into());
    item
}

/// Creates an account. The email (and username) claims are put in the same
/// transaction, so two concurrent registrations of one address cannot both win.
pub async fn create_user(ctx: &AppContext, new: NewUser, extra: Vec<TxOp>) -> ApiResult<User> {
    let now = ctx.clock.now();
    let user = User {
        id: ctx.ids.ulid().to_string(),
        email: new.email.as_str().to_string(),
        email_verified: new.email_verified,
        username: new.username.as_ref().map(|u| u.as_str().to_string()),
        first_name: new.first_name,
        last_name: new.last_name,
        display_name: None,
        bio: None,
        avatar_key: None,
        preferences: Preferences::default(),
        role: Role::User,
        plan: Plan::Free,
        status: AccountStatus::Active,
        password_hash: new.password_hash,
        failed_logins: 0,
        locked_until: None,
        suspended_until: None,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
        oidc_links: new.oidc_link.iter().map(|(p, s)| format!("{p}#{s}")).collect(),
    };
    let mut ops = vec![
        TxOp::Put { item: claim(keys::email_claim(&new.email.claim_key()), &user.id), cond: Some(Cond::NotExists) },
        TxOp::Put { item: user.to_item()?, cond: Some(Cond::NotExists) },
        TxOp::Put { item: user.status_item(0), cond: Some(Cond::NotExists) },
    ];
    let username_op = new.username.as_ref().map(|_| ops.len());
    if let Some((provider, subject)) = &new.oidc_link {
        ops.push(TxOp::Put { item: claim(keys::oidc_claim(provider, subject), &user.id), cond: Some(Cond::NotExists) });
    }
    if let Some(username) = &new.username {
        ops.push(TxOp::Put {
            item: claim(keys::username_claim(&username.claim_key()), &user.id),
            cond: Some(Cond::NotExists),
        });
    }
    ops.extend(extra);
    ops.extend(crate::social::authors::ops(None, Some(&user)));
    // The platform's counts (after everything else: the indexes above are read below).
    let status = crate::stats::counter(crate::stats::USERS_STATUS, user.status.as_str());
    let role = crate::stats::counter(crate::stats::USERS_ROLE, user.role.as_str());
    crate::stats::append(ctx, &mut ops, &[(&status, 1), (&role, 1)]);
    match ctx.table.transact(ops).await {
        Ok(()) => Ok(user),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            Err(ApiError::conflict("EMAIL_TAKEN", "An account with this email already exists")
                .with_field("email", "is taken"))
        }
        Err(StoreError::TransactionCanceled { failed }) if username_op.is_some_and(|i| failed.contains(&i)) => {
            Err(ApiError::conflict("USERNAME_TAKEN", "This username is taken").with_field("username", "is taken"))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn get_user(ctx: &AppContext, user_id: &str) -> ApiResult<Option<User>> {
    match ctx.table.get(&keys::user_profile(&UserId::from_trusted(user_id))).await? {
        Some(item) => User::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// The account holding `email`, if any.
pub async fn find_by_email(ctx: &AppContext, email: &Email) -> ApiResult<Option<User>> {
    let Some(claim) = ctx.table.get(&keys::email_claim(&email.claim_key())).await? else { return Ok(None) };
    match claim.get("userId").and_then(Value::as_str) {
        Some(id) => get_user(ctx, id).await,
        None => Ok(None),
    }
}

/// 403 for accounts that may not sign in.
pub fn ensure_active(user: &User, now: i64) -> ApiResult<()> {
    match user.status_at(now) {
        AccountStatus::Active => Ok(()),
        AccountStatus::Suspended => Err(ApiError::forbidden("The account is suspended").with_code("ACCOUNT_SUSPENDED")),
        AccountStatus::Banned => Err(ApiError::forbidden("The account is banned").with_code("ACCOUNT_BANNED")),
        AccountStatus::Deleted => Err(ApiError::unauthorized("The account no longer exists")),
    }
}

/// Counts a failed password sign-in; the fifth locks the account for 15 minutes.
pub async fn record_failed_login(ctx: &AppContext, user: &User) -> ApiResult<Option<i64>> {
    let now = ctx.clock.epoch_seconds();
    let key = keys::user_profile(&UserId::from_trusted(&user.id));
    let item = ctx.table.update(&key, Update::new().add("failedLogins", 1), Some(Cond::Exists)).await?;
    let failed = item.get("failedLogins").and_then(Value::as_u64).unwrap_or(0);
    if failed >= u64::from(MAX_FAILED_LOGINS) {
        let until = now + LOCK_SECS;
        ctx.table
            .update(&key, Update::new().set("lockedUntil", until).set("failedLogins", 0), Some(Cond::Exists))
            .await?;
        return Ok(Some(until));
    }
    Ok(None)
}

pub async fn clear_failed_logins(ctx: &AppContext, user: &User) -> ApiResult<()> {
    if user.failed_logins == 0 && user.locked_until.is_none() {
        return Ok(());
    }
    let update = Update::new().set("failedLogins", 0).remove("lockedUntil");
    ctx.table.update(&keys::user_profile(&UserId::from_trusted(&user.id)), update, Some(Cond::Exists)).await?;
    Ok(())
}

/// Sets a new password hash, unlocks the account, and bumps the version.
pub async fn set_password(ctx: &AppContext, user_id: &str, password_hash: &str) -> ApiResult<()> {
    let now = rfc3339(ctx.clock.now());
    let update = Update::new()
        .set("passwordHash", password_hash)
        .set("failedLogins", 0)
        .remove("lockedUntil")
        .set("updatedAt", now)
        .add("version", 1);
    ctx.table.update(&keys::user_profile(&UserId::from_trusted(user_id)), update, Some(Cond::Exists)).await?;
    Ok(())
}

pub async fn mark_email_verified(ctx: &AppContext, user_id: &str, email: &str) -> ApiResult<bool> {
    let update = Update::new().set("emailVerified", true).set("updatedAt", rfc3339(ctx.clock.now())).add("version", 1);
    // Only for the address the token was sent to (the account may have changed it since).
    let cond = Cond::And(vec![Cond::Exists, Cond::eq("email", email)]);
    match ctx.table.update(&keys::user_profile(&UserId::from_trusted(user_id)), update, Some(cond)).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends every access token issued before now (logout-all, password reset).
pub async fn revoke_tokens_before_now(ctx: &AppContext, user_id: &str) -> ApiResult<()> {
    let now = ctx.clock.epoch_seconds();
    let key = keys::account_status(&UserId::from_trusted(user_id));
    match ctx.table.update(&key, Update::new().set("tokensValidAfter", now), Some(Cond::Exists)).await {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A uniqueness claim item (`keys::*_claim`) owned by `user_id`.
pub fn claim_item(key: crate::ports::Key, user_id: &str) -> Item {
    claim(key, user_id)
}
