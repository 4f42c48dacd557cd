//! Single-use email tokens (verification: 24 h, password reset: 1 h). Only a
//! token's SHA-256 is stored; using it deletes it in the same conditional
//! write, so it works once; expired ones are absent (TTL) on every adapter.

use serde_json::{Value, json};

use super::sessions::hash;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::ports::table::{Cond, Item, PK, SK, TTL};
use crate::tokens::random_token;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify-email",
            Purpose::ResetPassword => "reset-password",
        }
    }

    pub fn lifetime_secs(self) -> i64 {
        match self {
            Purpose::VerifyEmail => 24 * 3600,
            Purpose::ResetPassword => 3600,
        }
    }
}

/// A new token for `user_id` (and the address it is sent to).
pub async fn issue(ctx: &AppContext, purpose: Purpose, user_id: &str, email: &str) -> ApiResult<String> {
    let token = random_token(32);
    let key = keys::one_time_token(&hash(&token));
    let mut item = Item::new();
    item.insert(PK.into(), key.pk.into());
    item.insert(SK.into(), key.sk.into());
    item.insert("purpose".into(), purpose.name().into());
    item.insert("userId".into(), user_id.into());
    item.insert("email".into(), email.into());
    item.insert(TTL.into(), json!(ctx.clock.epoch_seconds() + purpose.lifetime_secs()));
    ctx.table.put(item, Some(Cond::NotExists)).await?;
    Ok(token)
}

/// Uses a token: returns (user id, email) once, then never again.
pub async fn consume(ctx: &AppContext, purpose: Purpose, token: &str) -> ApiResult<(String, String)> {
    let invalid = || {
        ApiError::bad_request("TOKEN_INVALID", "The link is invalid or has expired")
            .with_field("token", "is invalid or expired")
    };
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    let key = keys::one_time_token(&hash(token));
    let cond = Cond::And(vec![Cond::Exists, Cond::eq("purpose", purpose.name())]);
    let used = match ctx.table.delete(&key, Some(cond)).await {
        Ok(Some(item)) => item,
        Ok(None) | Err(crate::ports::StoreError::ConditionFailed) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    let field = |name: &str| used.get(name).and_then(Value::as_str).map(str::to_string);
    match (field("userId"), field("email")) {
        (Some(user), Some(email)) => Ok((user, email)),
        _ => Err(invalid()),
    }
}
