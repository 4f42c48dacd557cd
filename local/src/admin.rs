//! Operator commands that need the data, on the embedded store or (with
//! `--aws`) on AWS: key rotation and the first admin.

use whatif_shared::UserId;
use whatif_shared::accounts::roles::{self, Change};
use whatif_shared::accounts::signing;
use whatif_shared::accounts::store;
use whatif_shared::accounts::types::Email;
use whatif_shared::audit::{self, Actor, Entry};
use whatif_shared::auth::Role;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;

/// `whatif-local keys rotate`: a new signing key; the previous one keeps
/// verifying tokens until they expire.
pub async fn rotate_keys(config: Config) -> Result<String, String> {
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string())?;
    let set = signing::rotate(&*ctx.secrets, &*ctx.table, &*ctx.clock).await.map_err(|e| e.to_string())?;
    let kid = set.current_kid().unwrap_or("?").to_string();
    let entry = Entry::new(Actor::system(), "security.key_rotation", "key", &kid)
        .note(Some("whatif-local keys rotate".to_string()));
    audit::record(&ctx, entry).await;
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
    let change = Change { role: Some(Role::Admin), status: None };
    let id = UserId::from_trusted(&user.id);
    roles::apply(&ctx, &Actor::system(), &id, &change, Some("user.role"), Some("whatif-local promote-admin"), None)
        .await
        .map_err(|e| e.message)?;
    ctx.flush();
    Ok(format!("{} ({}) is now an admin", email.as_str(), user.id))
}
