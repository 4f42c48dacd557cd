//! `DELETE /api/sharing/share/{shareUrl}`: the owner revokes a share for
//! good. Viewers, previews and QR codes get 404 from then on (an edge cache
//! holds a page for at most a minute); the share stays in the owner's list
//! as revoked, and a new share request of the scenario makes a new link.

use std::sync::Arc;

use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Update};
use whatif_shared::{ApiRequest, ApiResult, Reply, keys};

use crate::share;
use crate::update::save;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let owner = req.user()?.id();
    let mut share = share::get_owned(&ctx, &owner, req.path_param("shareUrl")?).await?;
    if share.revoked_at.is_some() {
        return Err(share::not_found());
    }
    let now = rfc3339(ctx.clock.now());
    let version = share.version;
    share.version += 1;
    share.is_active = false;
    share.revoked_at = Some(now.clone());
    share.updated_at = now.clone();
    let update = Update::new()
        .set("isActive", false)
        .set("revokedAt", now.as_str())
        .set("updatedAt", now.as_str())
        .set("version", share.version);
    save(&ctx, &share, update, version).await?;
    // No longer the share a new request reuses (when it still is).
    let pointer = keys::active_share(&share.scenario());
    match ctx.table.delete(&pointer, Some(Cond::eq("shareUrl", share.share_url.as_str()))).await {
        Ok(_) | Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::ok(share.owner_view(&ctx)).message("Share revoked"))
}
