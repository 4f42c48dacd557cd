//! Operator commands that need the data, on the embedded store or (with
//! `--aws`) on AWS: key rotation and the first admin.

use serde_json::json;
use whatif_shared::UserId;
use whatif_shared::accounts::signing;
use whatif_shared::accounts::store;
use whatif_shared::accounts::types::Email;
use whatif_shared::auth::Role;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, TxOp, Update};
use whatif_shared::stats;

/// `whatif-local keys rotate`: a new signing key; the previous one keeps
/// verifying tokens until they expire.
pub async fn rotate_keys(config: Config) -> Result<String, String> {
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string())?;
    let set = signing::rotate(&*ctx.secrets, &*ctx.table, &*ctx.clock).await.map_err(|e| e.to_string())?;
    ctx.flush();
    Ok(format!("signing key rotated: tokens are now signed with {}", set.current_kid().unwrap_or("?")))
}

/// `whatif-local promote-admin EMAIL`: makes an existing account an admin.
/// There is no default admin and no default password: register first, then promote.
pub async fn promote_admin(config: Config, email: &str) -> Result<String, String> {
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string())?;
    let email = Email::parse("email", email).map_err(|e| e.message)?;
    let user = store::find_by_email(&ctx, &email)
        .await
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("no account uses {}: register it first", email.as_str()))?;
    let mut ops = vec![
        TxOp::Update {
            key: keys::user_profile(&UserId::from_trusted(&user.id)),
            update: Update::new().set("role", "admin").add("version", 1),
            // As read: the role counts move from this role, once.
            cond: Some(Cond::eq("role", user.role.as_str())),
        },
        TxOp::Update {
            key: keys::account_status(&UserId::from_trusted(&user.id)),
            update: Update::new().set("role", json!("admin")),
            cond: None,
        },
    ];
    ops.extend(stats::move_op(&ctx, stats::USERS_ROLE, user.role.as_str(), Role::Admin.as_str()));
    ctx.table.transact(ops).await.map_err(|e| e.to_string())?;
    ctx.flush();
    Ok(format!("{} ({}) is now an admin", email.as_str(), user.id))
}
