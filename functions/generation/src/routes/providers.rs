//! `GET /api/generation/providers`: the configured chain in order, each
//! provider's circuit state and whether it is taking calls (no keys, no URLs).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::chain::CircuitState;
use crate::engine::engine;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProvidersAnswer {
    /// In the order they are tried.
    pub providers: Vec<ProviderAnswer>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProviderAnswer {
    /// `openai`, `anthropic`, `gemini`, `bedrock` or `offline`.
    pub name: String,
    /// The circuit breaker: `closed` (healthy), `open` (skipped after repeated
    /// failures), `half-open` (one probe call allowed).
    pub state: String,
    /// Taking calls now (`closed` or `half-open`).
    pub healthy: bool,
}

pub async fn handle(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let engine = engine(&ctx).await?;
    let providers = engine
        .chain
        .providers()
        .into_iter()
        .map(|p| ProviderAnswer {
            healthy: p.state != CircuitState::Open,
            state: p.state.as_str().to_string(),
            name: p.name,
        })
        .collect();
    Ok(Reply::ok(ProvidersAnswer { providers }))
}
