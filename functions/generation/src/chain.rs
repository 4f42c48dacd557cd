//! The provider chain: the configured models in order, each behind a circuit
//! breaker, with one repair round for an answer that is not a scenario.
//!
//! For each provider in order:
//!
//! 1. An open breaker skips it (until its cool-down ends; then one call goes
//!    through as a probe: success closes the breaker, failure opens it again).
//! 2. `Timeout`, `RateLimited`, `Server`, `Malformed`, `Network` and
//!    `Unauthorized` count against its breaker and fall through to the next
//!    provider (`Unauthorized` is logged as an error: it is configuration,
//!    but another provider can still answer the user).
//! 3. `Refused` ends the chain with [`GenerationError::Refused`]: a model
//!    declining the topic is an answer, not an outage, and is not laundered
//!    through another provider. The route answers 422 with the reason.
//! 4. The answer is validated ([`parse_model_output`]). When it is not a
//!    scenario, the same provider is asked once more with the precise
//!    validation error (the repair round); if that fails too, the next
//!    provider is tried, and when none is left the error is
//!    [`GenerationError::InvalidOutput`].
//!
//! # Configuration (environment, read once at start)
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `WHATIF_MODEL_PROVIDERS` | `offline` | the chain, in order: any of `openai`, `anthropic`, `gemini`, `bedrock`, `offline`, comma-separated |
//! | `WHATIF_OPENAI_MODEL` | `gpt-4o-mini` | the model of an OpenAI-compatible server |
//! | `WHATIF_OPENAI_BASE_URL` | `https://api.openai.com` | e.g. `http://127.0.0.1:11434` for Ollama (`/v1/chat/completions` is appended) |
//! | `WHATIF_OPENAI_TIMEOUT_MS` | `20000` | the whole request, 1–120000 |
//! | `WHATIF_OPENAI_API_KEY_VAR` | `OPENAI_API_KEY` | the name of the variable that holds the key (optional for a non-default base URL) |
//! | `WHATIF_ANTHROPIC_MODEL` | `claude-haiku-4-5` | |
//! | `WHATIF_ANTHROPIC_BASE_URL` | `https://api.anthropic.com` | |
//! | `WHATIF_ANTHROPIC_TIMEOUT_MS` | `20000` | |
//! | `WHATIF_ANTHROPIC_API_KEY_VAR` | `ANTHROPIC_API_KEY` | the key is required |
//! | `WHATIF_GEMINI_MODEL` | `gemini-2.5-flash` | |
//! | `WHATIF_GEMINI_BASE_URL` | `https://generativelanguage.googleapis.com` | |
//! | `WHATIF_GEMINI_TIMEOUT_MS` | `20000` | |
//! | `WHATIF_GEMINI_API_KEY_VAR` | `GEMINI_API_KEY` | the key is required |
//! | `WHATIF_BEDROCK_MODEL` | `anthropic.claude-3-haiku-20240307-v1:0` | a model id, inference profile id or ARN |
//! | `WHATIF_BEDROCK_REGION` | `AWS_REGION`, else `AWS_DEFAULT_REGION` | one is required |
//! | `WHATIF_BEDROCK_BASE_URL` | `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, else `https://bedrock-runtime.{region}.amazonaws.com` | |
//! | `WHATIF_BEDROCK_TIMEOUT_MS` | `20000` | |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | (Lambda sets them) | Bedrock's credentials; the first two are required |
//! | `WHATIF_MODEL_BREAKER_FAILURES` | `3` | consecutive failures that open a provider's breaker, 1–100 |
//! | `WHATIF_MODEL_BREAKER_COOLDOWN_SECS` | `30` | how long it stays open before a probe, 1–3600 |
//!
//! Keys are read from the variable named, held in [`ApiKey`] (whose `Debug`
//! hides it) and sent only in the provider's auth header; they are never
//! logged. A missing key or a bad value stops the start with the variable's
//! name. The chain's timeouts add up: keep their sum under the route's budget
//! (API Gateway waits 29 s), or run long requests as jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use whatif_shared::ApiError;
use whatif_shared::clock::Clock;

use crate::prompts::{self, PromptError};
use crate::provider::{ModelRequest, ProviderError, ScenarioModel, TokenUsage};
use crate::providers::{
    Anthropic, ApiKey, AwsCredentials, Bedrock, BedrockConfig, BuildError, Gemini, HttpProviderConfig, Offline,
    OpenAiCompatible,
};
use crate::scenario::{GeneratedScenario, ParentContext, ScenarioSpec, ValidationError, parse_model_output};

// ---- configuration ------------------------------------------------------------------

/// When a provider's breaker opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker (at least 1).
    pub failures: u32,
    /// How long it stays open before one probe call is let through.
    pub cooldown: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy { failures: 3, cooldown: Duration::from_secs(30) }
    }
}

/// One provider of the chain, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    OpenAi(HttpProviderConfig),
    Anthropic(HttpProviderConfig),
    Gemini(HttpProviderConfig),
    Bedrock(BedrockConfig),
    Offline,
}

/// The chain as configured: providers in order, and the breaker policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    pub providers: Vec<ProviderConfig>,
    pub breaker: BreakerPolicy,
}

impl Default for ChainConfig {
    /// The local default: the offline provider alone.
    fn default() -> Self {
        ChainConfig { providers: vec![ProviderConfig::Offline], breaker: BreakerPolicy::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainConfigError {
    #[error("missing environment variable {0}")]
    Missing(String),
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: String, reason: String },
    #[error("model provider {0}")]
    Provider(#[from] BuildError),
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

impl ChainConfig {
    pub fn from_process_env() -> Result<Self, ChainConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// Reads the variables of the table in the module documentation from `env`.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ChainConfigError> {
        let var = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let list = var("WHATIF_MODEL_PROVIDERS").unwrap_or("offline");
        let mut providers = Vec::new();
        let mut seen = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_ascii_lowercase();
            if seen.contains(&name) {
                return Err(invalid("WHATIF_MODEL_PROVIDERS", format!("{name} is listed twice")));
            }
            let provider = match name.as_str() {
                "openai" => ProviderConfig::OpenAi(http_config(
                    &var,
                    "OPENAI",
                    "gpt-4o-mini",
                    OpenAiCompatible::DEFAULT_BASE_URL,
                    "OPENAI_API_KEY",
                    false,
                )?),
                "anthropic" => ProviderConfig::Anthropic(http_config(
                    &var,
                    "ANTHROPIC",
                    "claude-haiku-4-5",
                    Anthropic::DEFAULT_BASE_URL,
                    "ANTHROPIC_API_KEY",
                    true,
                )?),
                "gemini" => ProviderConfig::Gemini(http_config(
                    &var,
                    "GEMINI",
                    "gemini-2.5-flash",
                    Gemini::DEFAULT_BASE_URL,
                    "GEMINI_API_KEY",
                    true,
                )?),
                "offline" => ProviderConfig::Offline,
                "bedrock" => ProviderConfig::Bedrock(bedrock_config(&var)?),
                other => {
                    return Err(invalid(
                        "WHATIF_MODEL_PROVIDERS",
                        format!("{other:?} is not a provider; use openai, anthropic, gemini, bedrock, offline"),
                    ));
                }
            };
            seen.push(name);
            providers.push(provider);
        }
        if providers.is_empty() {
            return Err(invalid("WHATIF_MODEL_PROVIDERS", "names no provider".into()));
        }
        let failures = number(&var, "WHATIF_MODEL_BREAKER_FAILURES", 3, 1..=100)?;
        let cooldown = number(&var, "WHATIF_MODEL_BREAKER_COOLDOWN_SECS", 30, 1..=3600)?;
        Ok(ChainConfig {
            providers,
            breaker: BreakerPolicy { failures: failures as u32, cooldown: Duration::from_secs(cooldown) },
        })
    }
}

fn invalid(var: &str, reason: String) -> ChainConfigError {
    ChainConfigError::Invalid { var: var.to_string(), reason }
}

fn number<'a>(
    var: &impl Fn(&str) -> Option<&'a str>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ChainConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => {
            v.parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                invalid(name, format!("{v:?} is not a whole number in {}–{}", range.start(), range.end()))
            })
        }
    }
}

fn http_config<'a>(
    var: &impl Fn(&str) -> Option<&'a str>,
    prefix: &str,
    default_model: &str,
    default_base: &str,
    default_key_var: &str,
    key_required: bool,
) -> Result<HttpProviderConfig, ChainConfigError> {
    let model = var(&format!("WHATIF_{prefix}_MODEL")).unwrap_or(default_model).to_string();
    let base_url = var(&format!("WHATIF_{prefix}_BASE_URL")).unwrap_or(default_base).to_string();
    let timeout_var = format!("WHATIF_{prefix}_TIMEOUT_MS");
    let timeout = Duration::from_millis(number(var, &timeout_var, DEFAULT_TIMEOUT.as_millis() as u64, 1..=120_000)?);
    let key_var_name = format!("WHATIF_{prefix}_API_KEY_VAR");
    let key_var = var(&key_var_name).unwrap_or(default_key_var).to_string();
    if key_var.is_empty() || !key_var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(invalid(&key_var_name, "must be the name of an environment variable".into()));
    }
    let api_key = var(&key_var).map(ApiKey::new);
    // A local OpenAI-compatible server (Ollama, vLLM) needs no key; OpenAI itself does.
    let required = key_required || base_url.trim_end_matches('/') == default_base;
    if api_key.is_none() && required {
        return Err(ChainConfigError::Missing(key_var));
    }
    Ok(HttpProviderConfig { base_url, model, api_key, timeout })
}

fn bedrock_config<'a>(var: &impl Fn(&str) -> Option<&'a str>) -> Result<BedrockConfig, ChainConfigError> {
    let region = var("WHATIF_BEDROCK_REGION")
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or_else(|| ChainConfigError::Missing("AWS_REGION".into()))?
        .to_string();
    let base_url = var("WHATIF_BEDROCK_BASE_URL")
        .or_else(|| var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"))
        .map_or_else(|| Bedrock::default_base_url(&region), str::to_string);
    let timeout = Duration::from_millis(number(
        var,
        "WHATIF_BEDROCK_TIMEOUT_MS",
        DEFAULT_TIMEOUT.as_millis() as u64,
        1..=120_000,
    )?);
    let required = |name: &str| var(name).map(str::to_string).ok_or_else(|| ChainConfigError::Missing(name.into()));
    Ok(BedrockConfig {
        http: HttpProviderConfig {
            base_url,
            model: var("WHATIF_BEDROCK_MODEL").unwrap_or("anthropic.claude-3-haiku-20240307-v1:0").to_string(),
            api_key: None,
            timeout,
        },
        region,
        credentials: AwsCredentials {
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN").map(str::to_string),
        },
    })
}

// ---- the circuit breaker ----------------------------------------------------------

/// A breaker's state, as `/api/generation/providers` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: OffsetDateTime,
    },
    /// One probe is out. A probe whose caller went away (a dropped future)
    /// never reports, so after `deadline` (a cool-down) another may go.
    HalfOpen {
        deadline: OffsetDateTime,
    },
}

enum Admission {
    Go,
    Skip { retry_after: Duration },
}

struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

impl Breaker {
    fn new(policy: BreakerPolicy) -> Self {
        Breaker { policy, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit(&self, now: OffsetDateTime) -> Admission {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Admission::Go,
            State::Open { until } | State::HalfOpen { deadline: until } if now < until => {
                Admission::Skip { retry_after: unsigned(until - now) }
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { deadline: now + self.policy.cooldown };
                Admission::Go
            }
        }
    }

    fn success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    fn failure(&self, now: OffsetDateTime) {
        let mut state = self.lock();
        let open = State::Open { until: now + self.policy.cooldown };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.policy.failures.max(1) => {
                State::Closed { failures: failures + 1 }
            }
            _ => open,
        };
    }

    fn state(&self, now: OffsetDateTime) -> CircuitState {
        match *self.lock() {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { until } if now < until => CircuitState::Open,
            State::Open { .. } | State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

fn unsigned(d: time::Duration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

// ---- the chain ----------------------------------------------------------------------

/// A scenario, who wrote it, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub scenario: GeneratedScenario,
    /// The provider that wrote it (`openai`, ..., `offline`).
    pub provider: String,
    /// The model, as the provider named it.
    pub model: String,
    /// Every token spent on this scenario, including answers that failed
    /// validation and the repair round.
    pub usage: TokenUsage,
    pub prompt_version: &'static str,
    /// The answer needed the repair round.
    pub repaired: bool,
    /// Providers tried before the one that answered, and why they did not.
    pub attempts: Vec<Attempt>,
}

/// A provider that did not give the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub provider: String,
    pub outcome: AttemptOutcome,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttemptOutcome {
    #[error("skipped: circuit open")]
    Skipped,
    #[error("{0}")]
    Failed(ProviderError),
    #[error("invalid scenario after the repair round: {0}")]
    Invalid(ValidationError),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerationError {
    /// A model declined the topic; `reason` is fit to show the user (422).
    #[error("{provider} declined: {reason}")]
    Refused { provider: String, reason: String },
    /// Every provider that answered gave no valid scenario, even after the repair round.
    #[error("the model's answer is not a valid scenario ({provider}): {error}")]
    InvalidOutput { provider: String, error: ValidationError, attempts: Vec<Attempt> },
    /// No provider answered (failures, open breakers); try again after `retry_after` (503).
    #[error("no model provider answered: {}", describe(.attempts))]
    Unavailable { attempts: Vec<Attempt>, retry_after: Option<Duration> },
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

fn describe(attempts: &[Attempt]) -> String {
    attempts.iter().map(|a| format!("{}: {}", a.provider, a.outcome)).collect::<Vec<_>>().join("; ")
}

impl From<GenerationError> for ApiError {
    /// Refused → 422 `CONTENT_REFUSED` with the reason; the rest → 503 (the
    /// detail goes to the log); a template bug → 500.
    fn from(err: GenerationError) -> Self {
        match err {
            GenerationError::Refused { reason, .. } => {
                ApiError::unprocessable("CONTENT_REFUSED", format!("This topic cannot be written about: {reason}"))
            }
            GenerationError::InvalidOutput { .. } => {
                tracing::error!(error = %err, "generation failed");
                ApiError::unavailable("The model could not write a valid scenario, try again shortly")
                    .with_code("GENERATION_FAILED")
            }
            GenerationError::Unavailable { retry_after, .. } => {
                tracing::error!(error = %err, "generation failed");
                let api = ApiError::unavailable("No model provider is available, try again shortly")
                    .with_code("PROVIDERS_UNAVAILABLE");
                match retry_after {
                    Some(wait) => api.retry_after(wait.as_secs().max(1)),
                    None => api,
                }
            }
            GenerationError::Prompt(detail) => ApiError::internal(detail),
        }
    }
}

/// One provider's name and breaker state, for `/api/generation/providers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    pub name: String,
    pub state: CircuitState,
}

struct Link {
    model: Arc<dyn ScenarioModel>,
    breaker: Breaker,
}

/// The ordered providers with their breakers. Build it once per cold start;
/// it is shared by every request (the breakers are per process).
pub struct ProviderChain {
    links: Vec<Link>,
    clock: Arc<dyn Clock>,
}

enum Step {
    Done(Box<Generation>),
    Next(Attempt),
}

impl ProviderChain {
    pub fn new(models: Vec<Arc<dyn ScenarioModel>>, policy: BreakerPolicy, clock: Arc<dyn Clock>) -> Self {
        let links = models.into_iter().map(|model| Link { model, breaker: Breaker::new(policy) }).collect();
        ProviderChain { links, clock }
    }

    /// Builds every adapter (clients only, no network call).
    pub fn from_config(config: &ChainConfig, clock: Arc<dyn Clock>) -> Result<Self, ChainConfigError> {
        let models = config
            .providers
            .iter()
            .map(|p| -> Result<Arc<dyn ScenarioModel>, ChainConfigError> {
                Ok(match p {
                    ProviderConfig::OpenAi(c) => Arc::new(OpenAiCompatible::new(c.clone())?),
                    ProviderConfig::Anthropic(c) => Arc::new(Anthropic::new(c.clone())?),
                    ProviderConfig::Gemini(c) => Arc::new(Gemini::new(c.clone())?),
                    ProviderConfig::Bedrock(c) => Arc::new(Bedrock::new(c.clone(), clock.clone())?),
                    ProviderConfig::Offline => Arc::new(Offline),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(models, config.breaker, clock))
    }

    pub fn providers(&self) -> Vec<ProviderStatus> {
        let now = self.clock.now();
        self.links
            .iter()
            .map(|l| ProviderStatus { name: l.model.name().to_string(), state: l.breaker.state(now) })
            .collect()
    }

    /// A scenario for `spec` (a continuation of `parent` when given).
    pub async fn generate(
        &self,
        spec: &ScenarioSpec,
        parent: Option<&ParentContext>,
    ) -> Result<Generation, GenerationError> {
        let prompt = prompts::build(spec, parent)?;
        self.run(ModelRequest::new(spec.clone(), parent.cloned(), prompt)).await
    }

    /// Runs a prepared request down the chain (to change, e.g., its seed).
    pub async fn run(&self, request: ModelRequest) -> Result<Generation, GenerationError> {
        let mut attempts = Vec::new();
        let mut usage = TokenUsage::default();
        let mut retry_after: Option<Duration> = None;
        let mut invalid: Option<(String, ValidationError)> = None;
        for link in &self.links {
            let name = link.model.name().to_string();
            if let Admission::Skip { retry_after: wait } = link.breaker.admit(self.clock.now()) {
                tracing::info!(provider = %name, "model provider skipped: circuit open");
                retry_after = Some(retry_after.map_or(wait, |r| r.min(wait)));
                attempts.push(Attempt { provider: name, outcome: AttemptOutcome::Skipped });
                continue;
            }
            match self.try_link(link, &request, &mut usage).await? {
                Step::Done(mut generation) => {
                    generation.attempts = attempts;
                    return Ok(*generation);
                }
                Step::Next(attempt) => {
                    match &attempt.outcome {
                        AttemptOutcome::Failed(ProviderError::RateLimited { retry_after: Some(wait) }) => {
                            retry_after = Some(retry_after.map_or(*wait, |r| r.min(*wait)));
                        }
                        AttemptOutcome::Invalid(error) => invalid = Some((attempt.provider.clone(), error.clone())),
                        _ => {}
                    }
                    attempts.push(attempt);
                }
            }
        }
        match invalid {
            Some((provider, error)) => Err(GenerationError::InvalidOutput { provider, error, attempts }),
            None => Err(GenerationError::Unavailable { attempts, retry_after }),
        }
    }

    /// One provider: its answer, validated, with one repair round.
    async fn try_link(
        &self,
        link: &Link,
        request: &ModelRequest,
        usage: &mut TokenUsage,
    ) -> Result<Step, GenerationError> {
        let name = link.model.name().to_string();
        let failed = |error: ProviderError| {
            link.breaker.failure(self.clock.now());
            if error == ProviderError::Unauthorized {
                tracing::error!(provider = %name, %error, "model provider failed; trying the next");
            } else {
                tracing::warn!(provider = %name, %error, "model provider failed; trying the next");
            }
            Ok(Step::Next(Attempt { provider: name.clone(), outcome: AttemptOutcome::Failed(error) }))
        };
        let refused = |reason: String| {
            // The provider is up; a refusal is its answer.
            link.breaker.success();
            tracing::info!(provider = %name, %reason, "model declined the topic");
            Err(GenerationError::Refused { provider: name.clone(), reason })
        };

        let first = match link.model.generate(request).await {
            Ok(output) => output,
            Err(ProviderError::Refused(reason)) => return refused(reason),
            Err(error) => return failed(error),
        };
        *usage = *usage + first.usage;
        let error = match parse_model_output(&first.text) {
            Ok(scenario) => return Ok(self.done(link, scenario, first.model, *usage, false)),
            Err(error) => error,
        };
        tracing::warn!(provider = %name, %error, "model answer is not a valid scenario; asking for a repair");
        let repair = request.with_repair(&first.text, prompts::repair(request.spec.language, &error)?);
        let second = match link.model.generate(&repair).await {
            Ok(output) => output,
            Err(ProviderError::Refused(reason)) => return refused(reason),
            Err(error) => return failed(error),
        };
        *usage = *usage + second.usage;
        match parse_model_output(&second.text) {
            Ok(scenario) => Ok(self.done(link, scenario, second.model, *usage, true)),
            Err(error) => {
                link.breaker.success();
                tracing::warn!(provider = %name, %error, "model answer still invalid after the repair round");
                Ok(Step::Next(Attempt { provider: name, outcome: AttemptOutcome::Invalid(error) }))
            }
        }
    }

    fn done(&self, link: &Link, scenario: GeneratedScenario, model: String, usage: TokenUsage, repaired: bool) -> Step {
        link.breaker.success();
        Step::Done(Box::new(Generation {
            scenario,
            provider: link.model.name().to_string(),
            model,
            usage,
            prompt_version: prompts::PROMPT_VERSION,
            repaired,
            attempts: Vec::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = time::macros::datetime!(2026-11-27 12:00 UTC);

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy { failures: 2, cooldown: Duration::from_secs(30) })
    }

    fn goes(b: &Breaker, at: OffsetDateTime) -> bool {
        matches!(b.admit(at), Admission::Go)
    }

    #[test]
    fn a_success_resets_the_count_of_failures() {
        let b = breaker();
        b.failure(T0);
        b.success();
        b.failure(T0);
        assert_eq!(b.state(T0), CircuitState::Closed);
        b.failure(T0);
        assert_eq!(b.state(T0), CircuitState::Open);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_a_lost_probe_expires() {
        let b = breaker();
        b.failure(T0);
        b.failure(T0);
        assert!(!goes(&b, T0 + Duration::from_secs(29)));
        let later = T0 + Duration::from_secs(30);
        assert!(goes(&b, later), "the probe");
        assert!(!goes(&b, later), "only one probe at a time");
        // The probe's caller went away without reporting: after a cool-down, another probe.
        assert!(!goes(&b, later + Duration::from_secs(29)));
        assert!(goes(&b, later + Duration::from_secs(30)));
        b.success();
        assert!(goes(&b, later + Duration::from_secs(30)));
    }

    #[test]
    fn an_open_breaker_says_how_long_to_wait() {
        let b = breaker();
        b.failure(T0);
        b.failure(T0);
        match b.admit(T0 + Duration::from_secs(10)) {
            Admission::Skip { retry_after } => assert_eq!(retry_after, Duration::from_secs(20)),
            Admission::Go => panic!("should be open"),
        }
    }
}
