//! `POST /api/auth/oauth/{provider}`: sign in with an OpenID Connect ID token
//! (Google, or a configured issuer). The token is verified against the
//! provider's keys; then the linked account signs in, or an account with that
//! (provider-verified) email is linked, or a new account is made.

use std::sync::Arc;

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::accounts::store::{self, NewUser};
use whatif_shared::accounts::types::{Email, text};
use whatif_shared::accounts::user::User;
use whatif_shared::accounts::{sessions, store::claim_item};
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::oidc::{OidcError, VerifiedIdentity};
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, TxOp, Update};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId};

use crate::common::{SignedIn, user_agent};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OauthBody {
    /// A JWT (three base64url parts), at most 12 000 characters.
    #[schemars(length(min = 5, max = 12000), regex(pattern = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$"))]
    pub id_token: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let provider = req.path_param("provider")?.to_string();
    if provider.is_empty()
        || provider.len() > 32
        || !provider.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::not_found("Sign-in provider"));
    }
    let body: OauthBody = req.json()?;
    let identity = ctx.oidc().verify(&provider, &body.id_token).await.map_err(|e| match e {
        OidcError::UnknownProvider => ApiError::not_found("Sign-in provider"),
        OidcError::InvalidToken(reason) => {
            ApiError::unauthorized(format!("The ID token is not valid: {reason}")).with_code("ID_TOKEN_INVALID")
        }
        OidcError::EmailNotVerified => {
            ApiError::forbidden("The provider has not verified this email address").with_code("EMAIL_NOT_VERIFIED")
        }
        OidcError::ProviderUnavailable(detail) => {
            tracing::error!(%detail, provider, "OIDC provider unavailable");
            ApiError::unavailable("The sign-in provider is not answering; try again shortly")
        }
    })?;
    let (user, created) = account_for(&ctx, &identity).await?;
    store::ensure_active(&user, ctx.clock.epoch_seconds())?;
    let issued = sessions::start(&ctx, &user, user_agent(&req)).await?;
    let answer = SignedIn::new(&ctx, &user, issued).await?;
    Ok(if created { Reply::created(answer) } else { Reply::enveloped(StatusCode::OK, answer) })
}

/// The account of this identity: linked before, linked now by verified email,
/// or new. Returns whether it was created.
async fn account_for(ctx: &AppContext, identity: &VerifiedIdentity) -> ApiResult<(User, bool)> {
    let link_key = keys::oidc_claim(&identity.provider, &identity.subject);
    if let Some(claim) = ctx.table.get(&link_key).await?
        && let Some(user_id) = claim.get("userId").and_then(|v| v.as_str())
        && let Some(user) = store::get_user(ctx, user_id).await?
    {
        return Ok((user, false));
    }
    let email = Email::parse("email", &identity.email)?;
    if let Some(user) = store::find_by_email(ctx, &email).await? {
        return link(ctx, user, identity).await.map(|u| (u, false));
    }
    let name = |v: &Option<String>| v.as_deref().and_then(|n| text("name", n, 50).ok()).filter(|n| !n.is_empty());
    let new = NewUser {
        email,
        email_verified: true,
        username: None,
        first_name: name(&identity.given_name),
        last_name: name(&identity.family_name),
        password_hash: None,
        oidc_link: Some((identity.provider.clone(), identity.subject.clone())),
    };
    match store::create_user(ctx, new, Vec::new()).await {
        Ok(user) => Ok((user, true)),
        // A concurrent sign-in made it first: use that one.
        Err(e) if e.code == "EMAIL_TAKEN" => {
            let email = Email::parse("email", &identity.email)?;
            let user =
                store::find_by_email(ctx, &email).await?.ok_or_else(|| ApiError::conflict("CONFLICT", "Try again"))?;
            link(ctx, user, identity).await.map(|u| (u, false))
        }
        Err(e) => Err(e),
    }
}

/// Links an identity to the account with its (provider-verified) email. When
/// that account never verified the address, whoever registered it may not be
/// its owner: their password and sessions are dropped, so the address's
/// real owner takes the account over safely.
async fn link(ctx: &AppContext, user: User, identity: &VerifiedIdentity) -> ApiResult<User> {
    let link = format!("{}#{}", identity.provider, identity.subject);
    let mut update = Update::new().set("emailVerified", true).add("version", 1);
    let mut links = user.oidc_links.clone();
    if !links.contains(&link) {
        links.push(link);
    }
    update = update.set("oidcLinks", serde_json::json!(links));
    let untrusted = !user.email_verified;
    if untrusted {
        update = update.remove("passwordHash");
    }
    let ops = vec![
        TxOp::Put {
            item: claim_item(keys::oidc_claim(&identity.provider, &identity.subject), &user.id),
            cond: Some(Cond::NotExists),
        },
        TxOp::Update {
            key: keys::user_profile(&UserId::from_trusted(&user.id)),
            update,
            cond: Some(Cond::And(vec![Cond::Exists, Cond::eq("email", user.email.as_str())])),
        },
    ];
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { .. }) => {
            return Err(ApiError::conflict("CONFLICT", "The account changed meanwhile; try again"));
        }
        Err(e) => return Err(e.into()),
    }
    if untrusted {
        sessions::revoke_all(ctx, &user.id, None).await?;
    }
    store::get_user(ctx, &user.id).await?.ok_or_else(|| ApiError::internal("the linked account vanished"))
}
