//! `GET /openapi.json`: the document `whatif-local openapi` generates from the
//! route table, compiled in (a test keeps the two identical).

use std::sync::Arc;

use http::StatusCode;
use http::header::CACHE_CONTROL;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

pub async fn handle(_ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    Ok(Reply::bytes(StatusCode::OK, "application/json", DOCUMENT).header(CACHE_CONTROL, "public, max-age=300"))
}
