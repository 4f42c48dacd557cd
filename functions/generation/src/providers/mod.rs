//! The adapters of the scenario model port.
//!
//! Each HTTP adapter speaks its provider's real wire protocol over one
//! `reqwest` client (rustls) with its own timeout, built once at start.

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
mod http;
pub mod offline;
pub mod openai;

use std::fmt;
use std::time::Duration;

pub use anthropic::Anthropic;
pub use bedrock::{AwsCredentials, Bedrock, BedrockConfig};
pub use gemini::Gemini;
pub use offline::Offline;
pub use openai::OpenAiCompatible;

/// An API key. Its `Debug` shows nothing, so a key never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// What an HTTP adapter needs: where, which model, the key, how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProviderConfig {
    /// Scheme, host and optional port (and path prefix), without the API path:
    /// `https://api.openai.com`, `http://127.0.0.1:11434`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    /// For the whole request: connecting, the model's writing, reading the body.
    pub timeout: Duration,
}

/// A provider that cannot be built (a bad base URL or model name, no TLS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {reason}")]
pub struct BuildError {
    pub provider: &'static str,
    pub reason: String,
}
