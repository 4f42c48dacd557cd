//! `GET /.well-known/jwks.json`: the public keys that verify access tokens.

use std::sync::Arc;

use http::StatusCode;
use http::header::CACHE_CONTROL;
use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::{ApiRequest, ApiResult, Reply};

pub async fn handle(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let published = ctx.table.get(&keys::public_jwks()).await?;
    let keys = published.and_then(|item| item.get("keys").cloned()).unwrap_or(Value::Array(Vec::new()));
    Ok(Reply::raw_json(StatusCode::OK, json!({"keys": keys})).header(CACHE_CONTROL, "public, max-age=300"))
}
