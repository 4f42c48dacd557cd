//! `GET /api/scenarios/stats`: counts over the caller's scenarios, computed
//! from their history entries on each call, so they are right after every
//! create, favourite, rating, delete and restore.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiRequest, ApiResult, Reply};

/// `{stats}`, as the web client reads it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatsAnswer {
    pub stats: Stats,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_scenarios: u64,
    pub total_views: u64,
    pub total_shares: u64,
    pub public_scenarios: u64,
    pub favorite_scenarios: u64,
    /// Over the rated scenarios, two decimals; null when none is rated.
    pub average_rating: Option<f64>,
    /// Scenarios per promptType.
    pub prompt_types: BTreeMap<String, u64>,
    /// Scenarios per tag.
    pub tags: BTreeMap<String, u64>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let mut stats = Stats::default();
    let (mut rated, mut rating_sum) = (0u64, 0u64);
    for s in store::history(&ctx, &user).await?.iter().filter(|s| !s.is_deleted()) {
        stats.total_scenarios += 1;
        stats.total_views += s.view_count;
        stats.total_shares += s.share_count;
        stats.public_scenarios += u64::from(s.is_public);
        stats.favorite_scenarios += u64::from(s.is_favorite);
        if let Some(r) = s.rating {
            rated += 1;
            rating_sum += u64::from(r);
        }
        *stats.prompt_types.entry(s.prompt_type.as_str().to_string()).or_default() += 1;
        for tag in &s.tags {
            *stats.tags.entry(tag.clone()).or_default() += 1;
        }
    }
    stats.average_rating = (rated > 0).then(|| (rating_sum as f64 / rated as f64 * 100.0).round() / 100.0);
    Ok(Reply::ok(StatsAnswer { stats }))
}
