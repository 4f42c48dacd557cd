//! `GET /api/scenarios/{id}/tree`: the branch tree `{id}` belongs to, from its
//! root, with the path down to `{id}`: every node for the owner, the public
//! nodes for anyone else; 404 when the caller may not see `{id}`.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::service;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("id")?.to_string();
    let caller = req.principal.as_ref().map(|p| p.user_id.as_str());
    Ok(Reply::ok(service::tree(&ctx, caller, &id).await?))
}
