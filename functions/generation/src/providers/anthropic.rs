//! Anthropic Messages.
//!
//! `POST {base}/v1/messages` with `x-api-key` and `anthropic-version:
//! 2023-06-01`. Anthropic has no JSON mode: the system prompt asks for one
//! JSON object and the validator tolerates a fence around it. Temperature is
//! 0–1 there, so ours (0–2) is halved. `stop_reason: "refusal"` is
//! [`ProviderError::Refused`], `"max_tokens"` a cut-off answer; 429 carries
//! `retry-after`; 529 (overloaded) is [`ProviderError::Server`].

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::http;
use super::{ApiKey, BuildError, HttpProviderConfig};
use crate::provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel, TokenUsage};

const NAME: &str = "anthropic";
pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    http: reqwest::Client,
    url: String,
    model: String,
    key: ApiKey,
}

impl Anthropic {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com";

    pub fn new(config: HttpProviderConfig) -> Result<Self, BuildError> {
        let (http, base) = http::client(NAME, &config)?;
        let key =
            config.api_key.ok_or_else(|| BuildError { provider: NAME, reason: "an API key is required".into() })?;
        Ok(Anthropic { http, url: format!("{base}/v1/messages"), model: config.model, key })
    }

    fn body(&self, req: &ModelRequest) -> serde_json::Value {
        let messages: Vec<_> =
            req.messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect();
        json!({
            "model": self.model,
            "max_tokens": req.max_tokens,
            "system": req.system,
            "messages": messages,
            "temperature": (req.temperature / 2.0).clamp(0.0, 1.0),
        })
    }
}

#[derive(Deserialize)]
struct MessageResponse {
    model: Option<String>,
    #[serde(default)]
    content: Vec<ContentBlock>,
    stop_reason: Option<String>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

#[async_trait]
impl ScenarioModel for Anthropic {
    fn name(&self) -> &str {
        NAME
    }

    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let request = self
            .http
            .post(&self.url)
            .header("x-api-key", self.key.expose())
            .header("anthropic-version", API_VERSION)
            .json(&self.body(req));
        let answer = http::send(request).await?;
        if !(200..300).contains(&answer.status) {
            return Err(http::status_error(NAME, &answer));
        }
        let message: MessageResponse = http::parse(&answer, "Messages response")?;
        let text: String =
            message.content.iter().filter(|b| b.kind == "text").filter_map(|b| b.text.as_deref()).collect();
        match message.stop_reason.as_deref() {
            Some("refusal") => {
                let reason = if text.trim().is_empty() {
                    "the model declined to write this scenario".to_string()
                } else {
                    text.trim().chars().take(500).collect()
                };
                return Err(ProviderError::Refused(reason));
            }
            Some("max_tokens") => {
                return Err(ProviderError::Malformed("the answer was cut off at the token limit".into()));
            }
            _ => {}
        }
        if text.trim().is_empty() {
            return Err(ProviderError::Malformed("the answer has no text".into()));
        }
        let usage =
            message.usage.map_or_else(TokenUsage::default, |u| TokenUsage::new(u.input_tokens, u.output_tokens));
        Ok(ModelOutput { text, model: message.model.unwrap_or_else(|| self.model.clone()), usage })
    }
}
