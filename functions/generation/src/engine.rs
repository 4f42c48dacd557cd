//! The engine one context shares: the [`Generator`] (provider chain with its
//! breakers, screen, price table), built once per cold start (or at the local
//! server's start) and kept in the context.
//!
//! # Configuration
//!
//! Besides the chain's variables (the table at the top of `chain.rs`) and
//! `WHATIF_BLOCKED_TERMS` (`screen.rs`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `WHATIF_MODEL_KEYS_SECRET` | unset (`model-keys` in the templates) | the name of a secret (under `WHATIF_SECRETS_PREFIX`) holding a JSON object of key variables, e.g. `{"ANTHROPIC_API_KEY": "..."}`; how keys reach the functions in AWS. A variable set in the environment wins; a secret without a value adds none |
//! | `WHATIF_MODEL_PRICES` | unset | USD per million tokens, prompt/completion, per provider: `openai=0.15/0.60,anthropic=1/5`; a scenario from a priced provider records `costUsd` |

use std::collections::HashMap;
use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::error::{ApiError, ApiResult};

use crate::chain::{ChainConfig, ProviderChain};
use crate::prices::Prices;
use crate::screen::Screen;
use crate::service::Generator;

pub const KEYS_SECRET_VAR: &str = "WHATIF_MODEL_KEYS_SECRET";
pub const PRICES_VAR: &str = "WHATIF_MODEL_PRICES";

/// The context's engine: the one set at start, or built now from the process
/// environment (and the keys secret) on first use.
pub async fn engine(ctx: &AppContext) -> ApiResult<Arc<Generator>> {
    if let Some(engine) = ctx.extension::<Generator>() {
        return Ok(engine);
    }
    start(ctx).await.map_err(|e| ApiError::internal(format!("generation engine: {e}")))
}

/// Builds the engine from the process environment and keeps it in `ctx`;
/// the local server calls this at start so a bad setting stops it there.
pub async fn start(ctx: &AppContext) -> Result<Arc<Generator>, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    add_secret_keys(ctx, &mut env).await?;
    let engine = Arc::new(from_env(ctx, &env)?);
    ctx.set_extension(engine.clone());
    Ok(engine)
}

/// The engine the variables in `env` describe.
pub fn from_env(ctx: &AppContext, env: &HashMap<String, String>) -> Result<Generator, String> {
    let chain = ProviderChain::from_config(&ChainConfig::from_env(env).map_err(|e| e.to_string())?, ctx.clock.clone())
        .map_err(|e| e.to_string())?;
    let prices = match env.get(PRICES_VAR) {
        Some(spec) => Prices::parse(spec).map_err(|e| format!("{PRICES_VAR} is invalid: {e}"))?,
        None => Prices::default(),
    };
    Ok(Generator::new(chain, Screen::from_env(env)).with_prices(prices))
}

/// Adds the key variables of the `WHATIF_MODEL_KEYS_SECRET` secret that the
/// environment does not set.
async fn add_secret_keys(ctx: &AppContext, env: &mut HashMap<String, String>) -> Result<(), String> {
    let Some(name) = env.get(KEYS_SECRET_VAR).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let value =
        ctx.secrets.get(&name).await.map_err(|e| format!("cannot read the secret {name} ({KEYS_SECRET_VAR}): {e}"))?;
    // A new stack's secret has no value yet: the offline provider needs none.
    let Some(value) = value else { return Ok(()) };
    let keys: HashMap<String, String> = serde_json::from_str(&value)
        .map_err(|_| format!("the secret {name} ({KEYS_SECRET_VAR}) must be a JSON object of strings"))?;
    for (var, key) in keys {
        env.entry(var).or_insert(key);
    }
    Ok(())
}
