//! `GET /api/profiles/username/{username}`: a public profile (case of the
//! username ignored) with its counts; a private, suspended, banned or
//! deleted one is 404, the same as a name nobody has.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::accounts::types::Username;
use whatif_shared::context::AppContext;
use whatif_shared::social::authors::{self, Author};
use whatif_shared::social::stats::{self, SocialStats};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

use crate::visible;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileAnswer {
    pub profile: Profile,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(flatten)]
    pub author: Author,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    pub joined_at: String,
    pub stats: SocialStats,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let raw = req.path_param("username")?;
    let username = Username::parse("username", raw).map_err(|_| ApiError::not_found("Profile"))?;
    let claim = ctx.table.get(&keys::username_claim(&username.claim_key())).await?;
    let id = claim
        .as_ref()
        .and_then(|c| c.get("userId"))
        .and_then(Value::as_str)
        .map(UserId::from_trusted)
        .ok_or_else(|| ApiError::not_found("Profile"))?;
    let user = visible::public_account(&ctx, &id).await?;
    let (author, stats) = futures::try_join!(authors::card(&ctx, &user), stats::get(&ctx, &id))?;
    let profile = Profile { author, bio: user.bio.clone(), joined_at: user.created_at.clone(), stats };
    Ok(Reply::ok(ProfileAnswer { profile }))
}
