//! `POST /api/auth/register`: a new account, signed in at once; a
//! verification email goes out.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::accounts::store::{self, NewUser};
use whatif_shared::accounts::types::{Email, Password, Username, text};
use whatif_shared::accounts::{emails, ott, passwords, sessions};
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::common::{SignedIn, user_agent};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterBody {
    /// An email address.
    #[schemars(length(min = 3, max = 254), regex(pattern = whatif_shared::accounts::types::EMAIL_PATTERN))]
    pub email: String,
    /// 8–128 characters, not all of one class.
    #[schemars(length(min = 8, max = 128))]
    pub password: String,
    #[schemars(length(max = 50))]
    pub first_name: Option<String>,
    #[schemars(length(max = 50))]
    pub last_name: Option<String>,
    /// 3–30 of letters, digits, `_`, `.`, `-`; unique regardless of case.
    #[schemars(regex(pattern = whatif_shared::accounts::types::USERNAME_PATTERN))]
    pub username: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: RegisterBody = req.json()?;
    let mut v = Validation::default();
    let email = v.check(Email::parse("email", &body.email));
    let password = v.check(Password::parse("password", &body.password));
    let username = v.check(body.username.as_deref().map(|u| Username::parse("username", u)).transpose());
    let first_name = v.check(body.first_name.as_deref().map(|n| text("firstName", n, 50)).transpose());
    let last_name = v.check(body.last_name.as_deref().map(|n| text("lastName", n, 50)).transpose());
    v.finish()?;
    let (Some(email), Some(password), Some(username), Some(first_name), Some(last_name)) =
        (email, password, username, first_name, last_name)
    else {
        return Err(ApiError::internal("validation passed with a missing field"));
    };
    let password_hash = passwords::hash(password.expose()).await?;
    let user = store::create_user(
        &ctx,
        NewUser {
            email,
            email_verified: false,
            username,
            first_name: first_name.filter(|n| !n.is_empty()),
            last_name: last_name.filter(|n| !n.is_empty()),
            password_hash: Some(password_hash),
            oidc_link: None,
        },
        Vec::new(),
    )
    .await?;
    send_verification(&ctx, &user.id, &user.email).await;
    let issued = sessions::start(&ctx, &user, user_agent(&req)).await?;
    Ok(Reply::created(SignedIn::new(&ctx, &user, issued).await?)
        .message("Account created; check your email to verify it"))
}

/// Sends the verification email; a mail outage must not undo the account
/// (resend-verification is there for that), so failures are logged.
pub async fn send_verification(ctx: &AppContext, user_id: &str, email: &str) {
    let sent = async {
        let token = ott::issue(ctx, ott::Purpose::VerifyEmail, user_id, email).await?;
        ctx.mailer.send(&emails::verify_email(&ctx.config.frontend_url, email, &token)).await?;
        Ok::<_, ApiError>(())
    };
    if let Err(e) = sent.await {
        tracing::error!(error = %e, "verification email not sent");
    }
}
