//! Sessions: an access token (EdDSA JWT, 15 minutes) and an opaque refresh
//! token (32 random bytes, stored only as its SHA-256) that rotates on every
//! use. A session is one refresh-token family; presenting a rotated token
//! again revokes the whole family (the token was stolen or replayed).
//!
//! Revoking a session also stops its access tokens at once: the account's
//! status item (read on every authenticated request) gets a `revoked#<sid>`
//! attribute until those tokens would have expired anyway.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::user::User;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Item, PK, Query, SK, SortKey, TTL, TxOp, Update};
use crate::tokens::{AUDIENCE, Claims, ISSUER, random_token};

pub const ACCESS_TTL_SECS: i64 = crate::tokens::MAX_ACCESS_LIFETIME_SECS;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

/// What sign-in, registration and refresh answer with.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn item(pk: String, sk: String, fields: Value) -> Item {
    let mut item = match fields {
        Value::Object(map) => map,
        _ => Item::new(),
    };
    item.insert(PK.into(), pk.into());
    item.insert(SK.into(), sk.into());
    item
}

/// Starts a new session for `user` (ending a suspension whose time ran out).
pub async fn start(ctx: &AppContext, user: &User, user_agent: Option<&str>) -> ApiResult<Issued> {
    super::roles::end_run_out_suspension(ctx, user).await?;
    let family = ctx.ids.ulid().to_string();
    let refresh = random_token(32);
    let now = ctx.clock.epoch_seconds();
    let session_key = keys::session(&UserId::from_trusted(&user.id), &family);
    let refresh_key = keys::refresh_token(&hash(&refresh));
    let session = item(
        session_key.pk,
        session_key.sk,
        json!({"family": family, "userId": user.id, "currentHash": hash(&refresh), "createdAt": now,
               "lastUsedAt": now, "userAgent": user_agent.unwrap_or("").chars().take(200).collect::<String>(),
               TTL: now + REFRESH_TTL_SECS}),
    );
    let token = item(
        refresh_key.pk,
        refresh_key.sk,
        json!({"userId": user.id, "family": family, "state": "current", TTL: now + REFRESH_TTL_SECS}),
    );
    ctx.table
        .transact(vec![
            TxOp::Put { item: session, cond: Some(Cond::NotExists) },
            TxOp::Put { item: token, cond: Some(Cond::NotExists) },
        ])
        .await?;
    let access_token = access_token(ctx, user, &family).await?;
    Ok(Issued { access_token, refresh_token: refresh, expires_in: ACCESS_TTL_SECS })
}

async fn access_token(ctx: &AppContext, user: &User, family: &str) -> ApiResult<String> {
    let now = ctx.clock.epoch_seconds();
    let claims = Claims {
        sub: user.id.clone(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        exp: now + ACCESS_TTL_SECS,
        nbf: now,
        iat: now,
        role: user.role,
        plan: user.plan,
        status: user.status.as_str().into(),
        sid: Some(family.to_string()),
    };
    ctx.signer.sign(&claims).await
}

fn invalid_refresh() -> ApiError {
    ApiError::unauthorized("The refresh token is not valid, sign in again").with_code("REFRESH_TOKEN_INVALID")
}

/// Rotates a refresh token: the old one stops working and a new pair is issued.
/// A rotated token presented again revokes its whole family.
pub async fn refresh(ctx: &AppContext, presented: &str) -> ApiResult<(User, Issued)> {
    if presented.is_empty() || presented.len() > 200 {
        return Err(invalid_refresh());
    }
    let old_key = keys::refresh_token(&hash(presented));
    let Some(old) = ctx.table.get(&old_key).await? else { return Err(invalid_refresh()) };
    let user_id = old.get("userId").and_then(Value::as_str).unwrap_or_default().to_string();
    let family = old.get("family").and_then(Value::as_str).unwrap_or_default().to_string();
    if old.get("state").and_then(Value::as_str) != Some("current") {
        tracing::warn!(user_id, family, "refresh token reused: revoking its session");
        revoke(ctx, &user_id, &family).await?;
        let entry = crate::audit::Entry::new(crate::audit::Actor::system(), "security.refresh_reuse", "user", &user_id)
            .note(Some(format!("session {family} closed: a rotated refresh token was presented again")));
        crate::audit::record(ctx, entry).await;
        return Err(ApiError::unauthorized("This refresh token was already used; the session is closed")
            .with_code("REFRESH_TOKEN_REUSED"));
    }
    let user = super::store::get_user(ctx, &user_id).await?.ok_or_else(invalid_refresh)?;
    super::store::ensure_active(&user, ctx.clock.epoch_seconds())?;
    let now = ctx.clock.epoch_seconds();
    let next = random_token(32);
    let next_key = keys::refresh_token(&hash(&next));
    let new_token = item(
        next_key.pk,
        next_key.sk,
        json!({"userId": user_id, "family": family, "state": "current", TTL: now + REFRESH_TTL_SECS}),
    );
    let rotated = ctx
        .table
        .transact(vec![
            // Kept (rotated) until it would have expired, so a replay is recognised.
            TxOp::Update {
                key: old_key,
                update: Update::new().set("state", "rotated"),
                cond: Some(Cond::eq("state", "current")),
            },
            TxOp::Put { item: new_token, cond: Some(Cond::NotExists) },
            TxOp::Update {
                key: keys::session(&UserId::from_trusted(&user_id), &family),
                update: Update::new()
                    .set("currentHash", hash(&next))
                    .set("lastUsedAt", now)
                    .set(TTL, now + REFRESH_TTL_SECS),
                cond: Some(Cond::And(vec![Cond::Exists, Cond::AttrNotExists("revokedAt".into())])),
            },
        ])
        .await;
    match rotated {
        Ok(()) => {}
        // Someone rotated it first, or the session was closed meanwhile.
        Err(StoreError::TransactionCanceled { .. }) => return Err(invalid_refresh()),
        Err(e) => return Err(e.into()),
    }
    let access_token = access_token(ctx, &user, &family).await?;
    Ok((user, Issued { access_token, refresh_token: next, expires_in: ACCESS_TTL_SECS }))
}

/// The (user, family) a refresh token belongs to, if it is known.
pub async fn owner_of(ctx: &AppContext, presented: &str) -> ApiResult<Option<(String, String)>> {
    if presented.is_empty() || presented.len() > 200 {
        return Ok(None);
    }
    let found = ctx.table.get(&keys::refresh_token(&hash(presented))).await?;
    Ok(found.and_then(|t| {
        let user = t.get("userId")?.as_str()?.to_string();
        let family = t.get("family")?.as_str()?.to_string();
        Some((user, family))
    }))
}

/// Closes one session: its refresh token and its access tokens stop working.
pub async fn revoke(ctx: &AppContext, user_id: &str, family: &str) -> ApiResult<()> {
    let now = ctx.clock.epoch_seconds();
    let key = keys::session(&UserId::from_trusted(user_id), family);
    let closed = ctx.table.update(&key, Update::new().set("revokedAt", now), Some(Cond::Exists)).await;
    match closed {
        Ok(session) => {
            if let Some(current) = session.get("currentHash").and_then(Value::as_str) {
                ctx.table.delete(&keys::refresh_token(current), None).await?;
            }
        }
        Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(e.into()),
    }
    mark_revoked(ctx, user_id, &[family.to_string()]).await
}

/// Closes every session of an account but `keep` (the caller's own, when it stays signed in).
pub async fn revoke_all(ctx: &AppContext, user_id: &str, keep: Option<&str>) -> ApiResult<()> {
    let mut start = None;
    let mut families = Vec::new();
    loop {
        let page = ctx
            .table
            .query(
                &Query::partition(
                    crate::ports::Index::Primary,
                    crate::keys::user_partition(&UserId::from_trusted(user_id)),
                )
                .sk(SortKey::BeginsWith(keys::SESSION_PREFIX.into()))
                .start(start),
            )
            .await?;
        for session in &page.items {
            if let Some(family) = session.get("family").and_then(Value::as_str)
                && Some(family) != keep
                && session.get("revokedAt").is_none()
            {
                families.push(family.to_string());
            }
        }
        start = page.next;
        if start.is_none() {
            break;
        }
    }
    for family in &families {
        revoke(ctx, user_id, family).await?;
    }
    Ok(())
}

/// Adds `revoked#<sid>` to the status item for as long as access tokens live,
/// and drops marks that have outlived them.
async fn mark_revoked(ctx: &AppContext, user_id: &str, families: &[String]) -> ApiResult<()> {
    let now = ctx.clock.epoch_seconds();
    let key = keys::account_status(&UserId::from_trusted(user_id));
    let mut update = Update::new();
    if let Some(status) = ctx.table.get(&key).await? {
        for (attr, until) in &status {
            if attr.starts_with("revoked#") && until.as_i64().is_some_and(|u| u <= now) {
                update = update.remove(attr);
            }
        }
    } else {
        return Ok(());
    }
    for family in families {
        update = update.set(&format!("revoked#{family}"), now + ACCESS_TTL_SECS + 60);
    }
    match ctx.table.update(&key, update, Some(Cond::Exists)).await {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
