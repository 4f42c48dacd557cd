//! The scenario model port: one trait every provider adapter implements.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::prompts::Prompt;
use crate::scenario::{ParentContext, ScenarioSpec};
pub use whatif_shared::scenarios::types::TokenUsage;

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// The role's name in the OpenAI, Anthropic and Bedrock message formats
    /// (Gemini calls the assistant `model`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// One request to a model: the system prompt and the conversation (one user
/// message; the repair round adds the model's answer and the reason it was
/// refused), the sampling settings, and the request itself for providers
/// that do not read prompts (the offline one).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    pub system: String,
    pub messages: Vec<Message>,
    /// 0–2, the OpenAI scale.
    pub temperature: f32,
    pub max_tokens: u32,
    pub spec: ScenarioSpec,
    pub parent: Option<ParentContext>,
    /// Makes the offline provider's output differ between, e.g., versions of
    /// a regenerated scenario; by default [`ScenarioSpec::seed`].
    pub seed: u64,
}

impl ModelRequest {
    pub fn new(spec: ScenarioSpec, parent: Option<ParentContext>, prompt: Prompt) -> Self {
        ModelRequest {
            system: prompt.system,
            messages: vec![Message { role: Role::User, content: prompt.user }],
            temperature: spec.temperature.get(),
            max_tokens: spec.max_tokens.get(),
            seed: spec.seed(),
            spec,
            parent,
        }
    }

    /// The repair round: the same conversation, plus the answer that was
    /// refused and the message that says why.
    pub fn with_repair(&self, previous_answer: &str, repair_message: String) -> Self {
        let mut next = self.clone();
        next.messages.push(Message { role: Role::Assistant, content: previous_answer.to_string() });
        next.messages.push(Message { role: Role::User, content: repair_message });
        next
    }
}

/// What a model answered: its raw text (not yet validated), the model that
/// wrote it (as the provider names it), and the tokens used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOutput {
    pub text: String,
    pub model: String,
    pub usage: TokenUsage,
}

/// Why a provider gave no usable answer. The text never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer within the provider's timeout.
    #[error("timed out")]
    Timeout,
    /// 429 (or the provider's equivalent); `retry_after` from `Retry-After`
    /// or the body, when it said.
    #[error("rate limited{}", RetryAfter(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// An unexpected HTTP status: 5xx (529: Anthropic overloaded), or a 4xx
    /// other than 401/403/429 (an unknown model, a request it does not take).
    #[error("HTTP status {0}")]
    Server(u16),
    /// The model declined: a refusal, a content filter, a blocked prompt.
    /// The reason is fit to show the user.
    #[error("refused: {0}")]
    Refused(String),
    /// An answer we cannot read: not JSON, not the provider's shape, cut off.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// 401/403: the key is missing, wrong or lacks access.
    #[error("unauthorized (check the API key)")]
    Unauthorized,
    /// The connection failed (DNS, refused, reset, TLS).
    #[error("network error: {0}")]
    Network(String),
}

struct RetryAfter<'a>(&'a Option<Duration>);

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, " (retry after {}s)", d.as_secs()),
            None => Ok(()),
        }
    }
}

/// A scenario model: a provider adapter (OpenAI-compatible, Anthropic,
/// Gemini) or the offline one.
#[async_trait]
pub trait ScenarioModel: Send + Sync {
    /// The provider's name: `openai`, `anthropic`, `gemini`, `offline`.
    fn name(&self) -> &str;

    /// One answer to `req`: the raw text, validated by the caller.
    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError>;
}
