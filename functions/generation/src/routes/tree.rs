//! `GET /api/scenarios/{id}/tree`: the branch tree `{id}` belongs to, from its
//! root, with the path down to `{id}`: every node for the owner, the public
//! nodes for anyone else (without their owner's notes: rating, favourite
//! flag, tags, version); 404 when the caller may not see `{id}`.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::service;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("id")?.to_string();
    let caller = req.principal.as_ref().map(|p| p.user_id.as_str());
    let tree = service::tree(&ctx, caller, &id).await?;
    let caller = req.principal.as_ref().map(|p| p.id());
    let nodes: Vec<_> = tree.nodes.iter().map(|node| node.shown_to(caller.as_ref())).collect();
    let mut answer = serde_json::to_value(&tree).map_err(ApiError::internal)?;
    answer["nodes"] = nodes.into();
    Ok(Reply::ok(answer))
}
