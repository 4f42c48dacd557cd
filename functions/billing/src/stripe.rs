//! The Stripe adapter: Checkout Sessions through Stripe's HTTP API
//! (`POST /v1/checkout/sessions`, form-encoded, `Authorization: Bearer`
//! with the secret key, `Idempotency-Key`), and the keys from the secret
//! store (`config::secrets::STRIPE`, cached by the secret store's adapter).
//!
//! Stripe's errors (`{"error": {"type", "message"}}`), its 429 and timeouts
//! become 503s (or 409 for an idempotency conflict) with a message that
//! says what to do; what Stripe said goes to the log only.

use std::time::Duration;

use serde::Deserialize;
use whatif_shared::config::billing::{BillingConfig, Pack};
use whatif_shared::config::secrets;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiResult};

/// What the `stripe` secret holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeKeys {
    /// `sk_live_...` / `sk_test_...` (or a restricted `rk_...` key).
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Every webhook signing secret accepted (`whsec_...`): two while one is rotated out.
    #[serde(default)]
    pub webhook_secrets: Vec<String>,
}

/// The keys in the secret store; 503 when the secret is missing or unreadable.
pub async fn keys(ctx: &AppContext) -> ApiResult<StripeKeys> {
    let unavailable = || ApiError::unavailable("Payments are not set up on this server");
    let value = match ctx.secrets.get(secrets::STRIPE).await {
        Ok(Some(value)) => value,
        Ok(None) => return Err(unavailable()),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the stripe secret");
            return Err(unavailable());
        }
    };
    serde_json::from_str(&value).map_err(|_| {
        tracing::error!("the stripe secret is not {{\"secretKey\": ..., \"webhookSecrets\": [...]}}");
        unavailable()
    })
}

/// A Checkout Session, as created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    pub id: String,
    pub url: String,
}

#[derive(Deserialize)]
struct StripeErrorBody {
    error: StripeError,
}

#[derive(Deserialize)]
struct StripeError {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// The form body of a Checkout Session for `pack`, bought by `account_id`.
pub fn session_form(config: &BillingConfig, pack: &Pack, account_id: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("mode".into(), "payment".into()),
        ("client_reference_id".into(), account_id.into()),
        ("metadata[account_id]".into(), account_id.into()),
        ("metadata[pack]".into(), pack.id.clone()),
        ("payment_intent_data[metadata][account_id]".into(), account_id.into()),
        ("payment_intent_data[metadata][pack]".into(), pack.id.clone()),
        ("success_url".into(), config.success_url.clone()),
        ("cancel_url".into(), config.cancel_url.clone()),
        ("line_items[0][quantity]".into(), "1".into()),
    ];
    match &pack.stripe_price {
        Some(price) => form.push(("line_items[0][price]".into(), price.clone())),
        None => {
            form.push(("line_items[0][price_data][currency]".into(), config.currency.clone()));
            form.push(("line_items[0][price_data][unit_amount]".into(), pack.amount.to_string()));
            form.push((
                "line_items[0][price_data][product_data][name]".into(),
                format!("{} What If credits", pack.credits),
            ));
        }
    }
    form
}

/// The HTTP client of every call to Stripe: made once per process (its
/// connections kept), the timeout set per call from the configuration.
fn client() -> Result<&'static reqwest::Client, &'static String> {
    static CLIENT: std::sync::LazyLock<Result<reqwest::Client, String>> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .user_agent(concat!("whatif-billing/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the Stripe HTTP client: {e}"))
    });
    CLIENT.as_ref()
}

/// Creates a Checkout Session through Stripe's API. `idempotency_key` makes
/// a retry return the session the first call made.
pub async fn create_session(
    config: &BillingConfig,
    secret_key: &str,
    pack: &Pack,
    account_id: &str,
    idempotency_key: &str,
) -> ApiResult<Session> {
    let unavailable = || ApiError::unavailable("The payment provider is unavailable; try again in a minute");
    let body = serde_urlencoded::to_string(session_form(config, pack, account_id)).map_err(ApiError::internal)?;
    let client = client().map_err(|e| ApiError::internal(e.clone()))?;
    let url = format!("{}/v1/checkout/sessions", config.stripe_base_url);
    let response = client
        .post(&url)
        .timeout(Duration::from_millis(config.stripe_timeout_ms))
        .bearer_auth(secret_key)
        .header("Idempotency-Key", idempotency_key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, timeout = e.is_timeout(), "stripe: no answer");
            unavailable()
        })?;
    let status = response.status();
    let retry_after =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = response.bytes().await.map_err(|e| {
        tracing::error!(error = %e, "stripe: the answer broke off");
        unavailable()
    })?;
    if status.is_success() {
        return serde_json::from_slice::<Session>(&bytes).map_err(|e| {
            tracing::error!(error = %e, "stripe: a session without id or url");
            unavailable()
        });
    }
    let error = serde_json::from_slice::<StripeErrorBody>(&bytes).map(|b| b.error).ok();
    let (kind, message) = error.map(|e| (e.kind, e.message)).unwrap_or_default();
    tracing::error!(status = status.as_u16(), kind = %kind, message = %message, "stripe refused to create a session");
    if status.as_u16() == 429 {
        return Err(ApiError::unavailable("The payment provider is busy; try again shortly")
            .retry_after(retry_after.unwrap_or(5)));
    }
    if kind == "idempotency_error" {
        return Err(ApiError::conflict(
            "IDEMPOTENCY_CONFLICT",
            "This Idempotency-Key was used for another checkout; use a new key",
        ));
    }
    Err(unavailable())
}
