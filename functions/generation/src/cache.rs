//! The generation cache: the same request (same normalised topic, options,
//! language, provider chain and prompt version) within 24 hours gets the
//! scenario already written, without a model call.
//!
//! Entries live in the table (`keys::generation_cache`) with a TTL. DynamoDB
//! deletes expired items late, so a read checks the TTL too. `forceNew`
//! skips the read (and the fresh result replaces the entry). The cache is a
//! help, not a dependency: a failed read is a miss, a failed write is logged.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::table::{PK, SK, TTL};

use crate::provider::TokenUsage;
use crate::scenario::{GeneratedScenario, ScenarioSpec};
use whatif_shared::text::fold;

/// How long an entry is served.
pub const CACHE_TTL_SECS: i64 = 24 * 60 * 60;

/// A cached scenario and who wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedGeneration {
    pub scenario: GeneratedScenario,
    pub provider: String,
    pub model: String,
    pub tokens: TokenUsage,
    pub prompt_version: String,
    pub created_at: String,
}

/// The topic as the cache sees it: trimmed, lower case, single spaces, no accents.
pub fn normalise_topic(topic: &str) -> String {
    fold(&topic.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The cache key of a request: SHA-256 (hex) over the normalised topic, every
/// option that shapes the text, the language, the provider chain (names, in
/// order) and the prompt version.
pub fn cache_key(spec: &ScenarioSpec, providers: &[String], prompt_version: &str) -> String {
    let tone = spec.tone.as_ref().map(|t| t.as_str().to_lowercase()).unwrap_or_default();
    let parts = [
        normalise_topic(spec.topic.as_str()),
        spec.prompt_type.as_str().to_string(),
        spec.length.as_str().to_string(),
        spec.language.as_str().to_string(),
        tone,
        format!("{:.3}", spec.temperature.get()),
        spec.max_tokens.get().to_string(),
        providers.join(","),
        prompt_version.to_string(),
    ];
    let mut hash = Sha256::new();
    for part in parts {
        // Length-prefixed, so no two different requests hash the same bytes.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The live entry under `key`, if any.
pub async fn read(ctx: &AppContext, key: &str) -> Option<CachedGeneration> {
    let item = match ctx.table.get(&keys::generation_cache(key)).await {
        Ok(item) => item?,
        Err(e) => {
            tracing::warn!(error = %e, "generation cache unavailable; generating");
            return None;
        }
    };
    let expires = item.get(TTL).and_then(Value::as_i64).unwrap_or(0);
    if expires <= ctx.clock.epoch_seconds() {
        return None;
    }
    match serde_json::from_value(Value::Object(item)) {
        Ok(entry) => Some(entry),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable generation cache entry; generating");
            None
        }
    }
}

/// Stores `entry` under `key` for [`CACHE_TTL_SECS`] (replacing any entry).
pub async fn write(ctx: &AppContext, key: &str, entry: &CachedGeneration) {
    let Ok(Value::Object(mut item)) = serde_json::to_value(entry) else {
        tracing::warn!("a generation does not serialise for the cache");
        return;
    };
    let k = keys::generation_cache(key);
    item.insert(PK.into(), k.pk.into());
    item.insert(SK.into(), k.sk.into());
    item.insert(TTL.into(), (ctx.clock.epoch_seconds() + CACHE_TTL_SECS).into());
    if let Err(e) = ctx.table.put(item, None).await {
        tracing::warn!(error = %e, "could not write the generation cache");
    }
}

impl CachedGeneration {
    pub fn new(
        scenario: GeneratedScenario,
        provider: &str,
        model: &str,
        tokens: TokenUsage,
        prompt_version: &str,
        ctx: &AppContext,
    ) -> Self {
        CachedGeneration {
            scenario,
            provider: provider.to_string(),
            model: model.to_string(),
            tokens,
            prompt_version: prompt_version.to_string(),
            created_at: rfc3339(ctx.clock.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{GenerationOptions, PromptType, Topic};

    fn spec(topic: &str, options: GenerationOptions) -> ScenarioSpec {
        options.resolve(Topic::parse(topic).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn topics_normalise_for_the_key_only() {
        assert_eq!(normalise_topic("  What  if the CAFÉ\tclosed? "), "what if the cafe closed?");
        let providers = vec!["offline".to_string()];
        let a = cache_key(&spec("What if the café closed?", GenerationOptions::default()), &providers, "v1");
        let b = cache_key(&spec("what if  the CAFE closed?", GenerationOptions::default()), &providers, "v1");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn options_chain_and_prompt_version_change_the_key() {
        let providers = vec!["offline".to_string()];
        let base = cache_key(&spec("the sun went out", GenerationOptions::default()), &providers, "v1");
        let humor = GenerationOptions { prompt_type: PromptType::Humor, ..Default::default() };
        assert_ne!(base, cache_key(&spec("the sun went out", humor), &providers, "v1"));
        assert_ne!(base, cache_key(&spec("the sun went out", GenerationOptions::default()), &providers, "v2"));
        let chain = vec!["openai".to_string(), "offline".to_string()];
        assert_ne!(base, cache_key(&spec("the sun went out", GenerationOptions::default()), &chain, "v1"));
        // forceNew and async are route concerns, not part of the request's text.
        let forced = GenerationOptions { force_new: true, run_async: true, ..Default::default() };
        assert_eq!(base, cache_key(&spec("the sun went out", forced), &providers, "v1"));
    }
}
