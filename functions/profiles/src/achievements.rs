//! `GET /api/achievements/my`: the caller's achievements: the earned ones in
//! the order earned, with when, then the others with the caller's progress.
//! They are earned only from what happened (`whatif_shared::social::achievements`);
//! reading them awards any the counters have reached but a failed write missed.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::social::achievements::{self, Earned};
use whatif_shared::{ApiRequest, ApiResult, Reply};

#[derive(Debug, Serialize, JsonSchema)]
pub struct AchievementsAnswer {
    pub achievements: Vec<Earned>,
    pub earned: usize,
    pub total: usize,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?.id();
    let achievements = achievements::of(&ctx, &me).await?;
    let earned = achievements.iter().filter(|a| a.earned_at.is_some()).count();
    Ok(Reply::ok(AchievementsAnswer { total: achievements.len(), earned, achievements }))
}
