//! `POST /api/auth/refresh`: a refresh token → a new pair (the old token stops
//! working; presenting it again closes the session).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::accounts::sessions;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshBody {
    #[schemars(length(min = 1, max = 512))]
    pub refresh_token: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: RefreshBody = req.json()?;
    let (_user, issued) = sessions::refresh(&ctx, &body.refresh_token).await?;
    Ok(Reply::ok(issued))
}
