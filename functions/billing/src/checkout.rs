//! `POST /api/billing/checkout {pack}`: a Stripe Checkout Session for one of
//! the configured packs, bought by the caller; answers its URL. Stripe's
//! `Idempotency-Key` is derived from the caller and the request's own
//! `Idempotency-Key` (else the request id), so a retried request gets the
//! session the first one made. The credits are granted by the webhook.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::stripe;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// A pack id from `GET /api/billing/plans`.
    pub pack: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutAnswer {
    /// Send the buyer here.
    pub url: String,
    pub session_id: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let body: CheckoutBody = req.json()?;
    let billing = &ctx.config.billing;
    let Some(pack) = billing.pack(body.pack.trim()) else {
        let ids: Vec<&str> = billing.packs.iter().map(|p| p.id.as_str()).collect();
        return Err(ApiError::validation("pack", format!("must be one of {}", ids.join(", "))));
    };
    let secret_key = stripe::keys(&ctx)
        .await?
        .secret_key
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| ApiError::unavailable("Payments are not set up on this server"))?;
    let basis = req.header("idempotency-key").unwrap_or(&req.request_id);
    let digest = Sha256::digest(format!("{user}\n{}\n{basis}", pack.id).as_bytes());
    let idempotency_key: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    let session =
        stripe::create_session(billing, secret_key.trim(), pack, user.as_str(), &format!("whatif-{idempotency_key}"))
            .await?;
    if !session.url.starts_with("https://") && !session.url.starts_with("http://") {
        tracing::error!("stripe: a session URL that is not http(s)");
        return Err(ApiError::unavailable("The payment provider is unavailable; try again in a minute"));
    }
    Ok(Reply::ok(CheckoutAnswer { url: session.url, session_id: session.id }))
}
