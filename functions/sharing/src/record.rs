//! `POST /api/sharing/share/{shareUrl}/record`: a share was sent somewhere
//! (`{platform}`, one of API.md's list). Counted on the share owner's day by
//! platform, for analytics; rate limited per client in the write-social class.
//! Works for any live share (the id is the capability), password or not: it
//! reveals nothing of the scenario.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::share;
use crate::stats::{self, Platform};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    pub platform: Platform,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RecordAnswer {
    pub recorded: bool,
    pub platform: Platform,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: RecordBody = req.json()?;
    let (share, _) = share::open(&ctx, req.path_param("shareUrl")?).await?;
    let op = stats::count(&ctx, &share.owner(), stats::Event::Recorded(body.platform));
    ctx.table.transact(vec![op]).await?;
    Ok(Reply::ok(RecordAnswer { recorded: true, platform: body.platform }))
}
