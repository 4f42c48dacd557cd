//! `GET /api/billing/plans`: the credit packs on sale, what each kind of
//! work costs, and the plans with their allowances and limits, all from
//! configuration.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::auth::Plan;
use whatif_shared::config::billing::Prices;
use whatif_shared::context::AppContext;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::{ApiRequest, ApiResult, Reply};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlansAnswer {
    /// ISO 4217, lower case.
    pub currency: String,
    pub packs: Vec<PackView>,
    /// Credits per unit of work.
    pub prices: Prices,
    pub plans: Vec<PlanView>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackView {
    pub id: String,
    pub credits: i64,
    /// In the currency's smallest unit (cents).
    pub amount: i64,
    pub currency: String,
    /// Buying it also puts the account on the premium plan.
    pub premium: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    pub id: Plan,
    /// Credits the balance renews to each month (UTC).
    pub monthly_allowance: i64,
    /// Generations (generate, regenerate, continue, random, batch topics) per window.
    pub generate_limit: LimitView,
    /// Video and narration jobs per window.
    pub media_limit: LimitView,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitView {
    pub max: u32,
    pub window_secs: u32,
}

pub async fn handle(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let billing = &ctx.config.billing;
    let limits = &ctx.config.rate_limits;
    let plan = |id: Plan| {
        let tier = |class| {
            let l = limits.get(class);
            let limit = if id == Plan::Premium { l.premium } else { l.signed_in };
            LimitView { max: limit.max, window_secs: limit.window_secs }
        };
        PlanView {
            id,
            monthly_allowance: billing.allowance(id),
            generate_limit: tier(RateClass::Generate),
            media_limit: tier(RateClass::Media),
        }
    };
    Ok(Reply::ok(PlansAnswer {
        currency: billing.currency.clone(),
        packs: billing
            .packs
            .iter()
            .map(|pack| PackView {
                id: pack.id.clone(),
                credits: pack.credits,
                amount: pack.amount,
                currency: billing.currency.clone(),
                premium: pack.premium,
            })
            .collect(),
        prices: billing.prices,
        plans: vec![plan(Plan::Free), plan(Plan::Premium)],
    }))
}
