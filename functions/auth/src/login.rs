//! `POST /api/auth/login`: email and password → a session. Unknown emails
//! take as long as wrong passwords; five failures lock the account for 15 minutes.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::accounts::store;
use whatif_shared::accounts::types::Email;
use whatif_shared::accounts::{passwords, sessions};
use whatif_shared::audit::{self, Actor, Entry};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::common::{SignedIn, user_agent};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// An email address.
    #[schemars(length(min = 3, max = 254), regex(pattern = whatif_shared::accounts::types::EMAIL_PATTERN))]
    pub email: String,
    #[schemars(length(min = 1, max = 1024))]
    pub password: String,
}

fn invalid() -> ApiError {
    ApiError::unauthorized("The email or password is wrong").with_code("INVALID_CREDENTIALS")
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: LoginBody = req.json()?;
    if body.password.len() > 1024 {
        return Err(invalid());
    }
    let user = match Email::parse("email", &body.email) {
        Ok(email) => store::find_by_email(&ctx, &email).await?,
        Err(_) => None,
    };
    // Always one Argon2 verification, against a dummy hash when there is no account.
    let matched = passwords::verify(&body.password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    let Some(user) = user else { return Err(invalid()) };
    let now = ctx.clock.epoch_seconds();
    if let Some(until) = user.locked_until.filter(|u| *u > now) {
        return Err(locked(until - now));
    }
    if !matched {
        if let Some(until) = store::record_failed_login(&ctx, &user).await? {
            let entry = Entry::new(Actor::system(), "security.signin_lockout", "user", &user.id)
                .target_name(Some(user.username.clone().unwrap_or_else(|| user.email.clone())))
                .note(Some(format!("password sign-in locked for {} s after repeated failures", until - now)))
                .request(&req.request_id);
            audit::record(&ctx, entry).await;
            return Err(locked(until - now));
        }
        return Err(invalid());
    }
    store::ensure_active(&user, ctx.clock.epoch_seconds())?;
    store::clear_failed_logins(&ctx, &user).await?;
    let issued = sessions::start(&ctx, &user, user_agent(&req)).await?;
    Ok(Reply::ok(SignedIn::new(&ctx, &user, issued).await?))
}

fn locked(seconds: i64) -> ApiError {
    ApiError::locked("Too many failed sign-ins; the account is locked for a while", seconds.max(1) as u64)
        .with_code("ACCOUNT_LOCKED")
}
