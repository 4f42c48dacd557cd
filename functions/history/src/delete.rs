//! `DELETE /api/scenarios/{id}`: the owner's soft delete; restorable for 30
//! days (`POST /api/scenarios/{id}/restore`), then purged with everything it
//! owns. `If-Match` is honoured.

use std::sync::Arc;

use serde_json::json;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::expected_version;
use crate::lifecycle::{self, restorable_until};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("id")?.to_string();
    let user = req.user()?.user_id.clone();
    let expected = expected_version(&req, None)?;
    let deleted = lifecycle::soft_delete(&ctx, &user, &id, expected).await?;
    let deleted_at = deleted.deleted_at.unwrap_or_default();
    let until = restorable_until(&deleted_at).map(rfc3339);
    Ok(Reply::ok(json!({"id": id, "deletedAt": deleted_at, "restorableUntil": until}))
        .message("Scenario deleted; it can be restored for 30 days"))
}
