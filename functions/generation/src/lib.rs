//! Scenario generation: the engine behind `/api/generate`, `/api/regenerate`,
//! `/api/random` and `/api/scenarios/{id}/continue`.
//!
//! - [`scenario`]: the scenario schema a model must produce and the validator
//!   of a model's raw output (the request options and the stored scenario are
//!   the shared domain's, `whatif_shared::scenarios`).
//! - [`prompts`]: versioned prompt templates (data in `prompts/*.json`).
//! - [`provider`]: the model port, [`ScenarioModel`].
//! - [`providers`]: its adapters: OpenAI-compatible chat completions,
//!   Anthropic Messages, Google Gemini, Amazon Bedrock Converse (SigV4), and
//!   the offline provider.
//! - [`chain`]: the ordered provider chain with fallback, circuit breakers and
//!   one repair round.
//! - [`screen`]: the blocklist screen of topics, custom choices and outputs.
//! - [`cache`]: the 24 h generation cache in the table.
//! - [`engine`]: the engine a context shares, built from the environment.
//! - [`prices`]: the providers' price table, what a generation cost.
//! - [`routes`]: the HTTP routes (one Lambda each) and the `generation` job.
//! - [`topics`]: the curated topics of `/api/random`.
//! - [`service`]: what the routes call: generate, continue, regenerate, tree, versions.

pub mod cache;
pub mod chain;
pub mod engine;
pub mod prices;
pub mod prompts;
pub mod provider;
pub mod providers;
pub mod routes;
pub mod scenario;
pub mod screen;
pub mod service;
pub mod topics;

pub use chain::{ChainConfig, Generation, GenerationError, ProviderChain};
pub use prompts::PROMPT_VERSION;
pub use provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel, TokenUsage};
pub use routes::{JOBS, ROUTES, SERVICE};
pub use scenario::{GeneratedScenario, GenerationOptions, Language, Length, PromptType, ScenarioSpec, Topic};
pub use screen::{Blocked, Screen};
pub use service::{Generated, Generator, NextStep, Tree};
pub use whatif_shared::scenarios::Scenario;
