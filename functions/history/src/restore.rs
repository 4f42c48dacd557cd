//! `POST /api/scenarios/{id}/restore`: undoes the owner's soft delete within
//! 30 days (404 after, 409 `NOT_DELETED` for a scenario that is not deleted).

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::{ScenarioAnswer, lifecycle};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("id")?.to_string();
    let user = req.user()?.user_id.clone();
    let scenario = lifecycle::restore(&ctx, &user, &id).await?;
    Ok(Reply::ok(ScenarioAnswer { scenario }).message("Scenario restored"))
}
