//! `PUT /api/users/change-email`: a new address (unique) and the password;
//! the account must verify the new address, and the old one is free again.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::store::claim_item;
use whatif_shared::accounts::types::Email;
use whatif_shared::accounts::{emails, ott, passwords};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, TxOp};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::profile::current;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeEmailBody {
    pub new_email: String,
    pub password: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ChangeEmailBody = req.json()?;
    let new_email = Email::parse("newEmail", &body.new_email)?;
    let mut user = current(&ctx, &req).await?;
    if !passwords::verify(&body.password, user.password_hash.as_deref()).await? {
        return Err(ApiError::validation("password", "is wrong").with_code("INVALID_CREDENTIALS"));
    }
    let old_email = Email::parse("email", &user.email)?;
    if old_email.claim_key() == new_email.claim_key() {
        return Err(ApiError::validation("newEmail", "is already the account's address"));
    }
    let before_version = user.version;
    user.email = new_email.as_str().to_string();
    user.email_verified = false;
    user.version += 1;
    user.updated_at = rfc3339(ctx.clock.now());
    let ops = vec![
        TxOp::Put {
            item: claim_item(keys::email_claim(&new_email.claim_key()), &user.id),
            cond: Some(Cond::NotExists),
        },
        TxOp::Delete {
            key: keys::email_claim(&old_email.claim_key()),
            cond: Some(Cond::eq("userId", user.id.as_str())),
        },
        TxOp::Put { item: user.to_item()?, cond: Some(Cond::eq("version", before_version)) },
    ];
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            return Err(ApiError::conflict("EMAIL_TAKEN", "An account with this email already exists")
                .with_field("newEmail", "is taken"));
        }
        Err(StoreError::TransactionCanceled { .. }) => {
            return Err(ApiError::conflict("VERSION_CONFLICT", "The account changed meanwhile; try again"));
        }
        Err(e) => return Err(e.into()),
    }
    let token = ott::issue(&ctx, ott::Purpose::VerifyEmail, &user.id, &user.email).await?;
    if let Err(e) = ctx.mailer.send(&emails::verify_email(&ctx.config.frontend_url, &user.email, &token)).await {
        tracing::error!(error = %e, "verification email for the new address not sent");
    }
    Ok(Reply::ok(json!({"email": user.email, "emailVerified": false}))
        .message("Email changed; check the new inbox to verify it"))
}
