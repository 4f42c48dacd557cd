//! Which accounts others may see: an active account whose owner made the
//! profile public. Any other account is 404 on every profile route, the
//! same as one that does not exist.

use whatif_shared::accounts::store;
use whatif_shared::accounts::user::{AccountStatus, User};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, UserId};

/// Whether others may see `user`'s profile.
pub fn is_public(user: &User) -> bool {
    user.preferences.public_profile && user.status == AccountStatus::Active
}

/// The account `id` when others may see it; 404 otherwise.
pub async fn public_account(ctx: &AppContext, id: &UserId) -> ApiResult<User> {
    match store::get_user(ctx, id.as_str()).await? {
        Some(user) if is_public(&user) => Ok(user),
        _ => Err(ApiError::not_found("Profile")),
    }
}

/// The `{userId}` of the path.
pub fn path_user(req: &ApiRequest) -> ApiResult<UserId> {
    Ok(UserId::from(req.path_ulid("userId")?))
}
