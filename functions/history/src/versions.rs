//! `GET /api/scenarios/{id}/versions`: the regenerate chain that ends at the
//! caller's scenario `{id}`, oldest first (`versionOf` links them).

use std::sync::Arc;

use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::listing::listed;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("id")?.to_string();
    let user = req.user()?.user_id.clone();
    let chain = store::versions(&ctx, &user, &id).await?;
    let versions: Vec<_> = chain.iter().map(listed).collect();
    Ok(Reply::ok(json!({"versions": versions, "count": versions.len()})))
}
