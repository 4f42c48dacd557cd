//! `DELETE /api/video/{videoId}`: for its owner (404 for anyone else): a
//! render under way is cancelled (its worker kills ffmpeg and keeps
//! nothing), then the files and the item are removed.

use std::sync::Arc;

use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::record::{self, MediaKind};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("videoId")?.to_string();
    let media = record::get_owned(&ctx, &req.user()?.id(), &id, MediaKind::Video).await?;
    records::cancel(&ctx, &media.id).await?;
    record::remove(&ctx, &media).await?;
    Ok(Reply::ok(json!({"videoId": media.id, "deleted": true})))
}
