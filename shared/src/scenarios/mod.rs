//! The scenario domain every service shares: the stored (and served)
//! [`Scenario`] and its reads and writes ([`store`]), and the value types of a
//! scenario and of a generation request ([`types`]). Generating one (the
//! model port, providers, prompts, the chain) is `functions/generation`'s.

pub mod store;
pub mod types;

pub use store::{HistoryEntry, Scenario};
pub use types::{
    Choice, GenerationOptions, Language, Length, MaxTokens, PromptType, ScenarioSpec, Section, Temperature, TokenUsage,
    Tone, Topic,
};
