//! `DELETE /api/users/delete-account`: with the password, the account is
//! closed at once (its tokens stop working, its email and username are free
//! again) and a job deletes everything it owns. Asking twice is harmless.
//! The last active admin cannot close their account (409 `LAST_ADMIN`).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use whatif_shared::accounts::passwords;
use whatif_shared::accounts::roles;
use whatif_shared::accounts::store;
use whatif_shared::accounts::types::Email;
use whatif_shared::accounts::user::{AccountStatus, User};
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records;
use whatif_shared::jobs::{JobError, JobMessage, JobStatus};
use whatif_shared::keys;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, TxOp, Update};
use whatif_shared::social::authors;
use whatif_shared::stats;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId};

use crate::profile::current;

pub const KIND: &str = "account-delete";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    pub password: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: DeleteAccountBody = req.json()?;
    let user = current(&ctx, &req).await?;
    if !passwords::verify(&body.password, user.password_hash.as_deref()).await? {
        return Err(ApiError::validation("password", "is wrong").with_code("INVALID_CREDENTIALS"));
    }
    let email = Email::parse("email", &user.email)?;
    let mine = Cond::eq("userId", user.id.as_str());
    let mut ops = vec![
        TxOp::Update {
            key: keys::user_profile(&UserId::from_trusted(&user.id)),
            update: Update::new().set("status", AccountStatus::Deleted.as_str()),
            // As read: the account's count moves from this status, once.
            cond: Some(Cond::eq("status", user.status.as_str())),
        },
        TxOp::Update {
            key: keys::account_status(&UserId::from_trusted(&user.id)),
            update: Update::new().set("status", AccountStatus::Deleted.as_str()),
            cond: None,
        },
        TxOp::Delete { key: keys::email_claim(&email.claim_key()), cond: Some(mine.clone()) },
    ];
    if let Some(name) = &user.username {
        ops.push(TxOp::Delete { key: keys::username_claim(&name.to_ascii_lowercase()), cond: Some(mine) });
    }
    // Its name leaves profile search and the leaderboards at once.
    let closed = User { status: AccountStatus::Deleted, ..user.clone() };
    ops.extend(authors::ops(Some(&user), Some(&closed)));
    // The platform's counts: a deleted account leaves its status and its role.
    let (from, to) = (
        stats::counter(stats::USERS_STATUS, user.status.as_str()),
        stats::counter(stats::USERS_STATUS, AccountStatus::Deleted.as_str()),
    );
    let role = stats::counter(stats::USERS_ROLE, user.role.as_str());
    ops.push(stats::add_op(&ctx, &[(&from, -1), (&to, 1), (&role, -1)]));
    // The last active admin cannot close their account (make another admin first).
    let guard_at = ops.len();
    let guarded = match roles::leaving_admin_op(&ctx, &user).await? {
        Some(op) => {
            ops.push(op);
            true
        }
        None => false,
    };
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failed }) if guarded && failed.contains(&guard_at) => {
            return Err(roles::last_admin());
        }
        Err(StoreError::TransactionCanceled { .. }) => {
            return Err(ApiError::conflict("BUSY", "The account changed meanwhile; try again").retry_after(1));
        }
        Err(e) => return Err(e.into()),
    }
    let job = records::enqueue(&ctx, KIND, &user.id, json!({})).await?;
    Ok(Reply::accepted(json!({"jobId": job.id, "status": job.status}))
        .message("The account is closed; its data is being deleted"))
}

/// The job: every owner deletes what the account owns (the account last).
pub async fn run(ctx: Arc<AppContext>, message: JobMessage) -> Result<(), JobError> {
    let retry = |e: ApiError| JobError::Retry(e.message);
    let Some(job) = records::get(&ctx, &message.job_id).await.map_err(retry)? else {
        // Already done: the account's deletion removes its job records too.
        return Ok(());
    };
    match store::get_user(&ctx, &job.user_id).await.map_err(retry)? {
        Some(user) if user.status == AccountStatus::Deleted => {}
        None => {}
        Some(_) => return Err(JobError::Fail("the account is not closed".into())),
    }
    records::update(&ctx, &job.id, JobStatus::Running, 10, None, None).await.map_err(retry)?;
    let owners = whatif_shared::service::installed().map_err(retry)?.data_owners();
    for owner in owners {
        (owner.delete)(ctx.clone(), job.user_id.clone()).await.map_err(retry)?;
    }
    tracing::info!(user_id = %job.user_id, "account deleted");
    Ok(())
}
