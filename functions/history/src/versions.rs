//! `GET /api/scenarios/{id}/versions`: the regenerate chain that ends at the
//! caller's scenario `{id}`, oldest first (`versionOf` links them).

use std::sync::Arc;

use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiRequest, ApiResult, Reply, ScenarioId};

use crate::listing::listed;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = ScenarioId::from(req.path_ulid("id")?);
    let user = req.user()?.id();
    let chain = store::versions(&ctx, &user, &id).await?;
    let versions: Vec<_> = chain.iter().map(listed).collect();
    Ok(Reply::ok(json!({"versions": versions, "count": versions.len()})))
}
