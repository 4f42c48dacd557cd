//! OpenAI-compatible chat completions: OpenAI itself, and any compatible
//! server (Ollama, vLLM, LM Studio, ...).
//!
//! `POST {base}/v1/chat/completions` with `Authorization: Bearer <key>` (left
//! out when no key is configured, as local servers want), JSON mode
//! (`response_format: {"type": "json_object"}`). A `refusal` or
//! `finish_reason: "content_filter"` is [`ProviderError::Refused`];
//! `finish_reason: "length"` is a cut-off answer ([`ProviderError::Malformed`]).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::http::{self, Answer};
use super::{ApiKey, BuildError, HttpProviderConfig};
use crate::provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel, TokenUsage};

const NAME: &str = "openai";

pub struct OpenAiCompatible {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<ApiKey>,
}

impl OpenAiCompatible {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com";

    pub fn new(config: HttpProviderConfig) -> Result<Self, BuildError> {
        let (http, base) = http::client(NAME, &config)?;
        Ok(OpenAiCompatible {
            http,
            url: format!("{base}/v1/chat/completions"),
            model: config.model,
            key: config.api_key,
        })
    }

    fn body(&self, req: &ModelRequest) -> serde_json::Value {
        let mut messages = vec![json!({"role": "system", "content": req.system})];
        messages.extend(req.messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})));
        json!({
            "model": self.model,
            "messages": messages,
            "temperature": req.temperature,
            "max_tokens": req.max_tokens,
            "response_format": {"type": "json_object"},
        })
    }
}

#[derive(Deserialize)]
struct Completion {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<CompletionChoice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    message: Option<AssistantMessage>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct AssistantMessage {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    total_tokens: Option<u32>,
}

#[async_trait]
impl ScenarioModel for OpenAiCompatible {
    fn name(&self) -> &str {
        NAME
    }

    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let mut request = self.http.post(&self.url).json(&self.body(req));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let answer = http::send(request).await?;
        if !(200..300).contains(&answer.status) {
            return Err(error(&answer));
        }
        let completion: Completion = http::parse(&answer, "chat completion")?;
        let choice = completion
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Malformed("the completion has no choices".into()))?;
        let message = choice.message.unwrap_or(AssistantMessage { content: None, refusal: None });
        if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
            return Err(ProviderError::Refused(refusal.trim().to_string()));
        }
        match choice.finish_reason.as_deref() {
            Some("content_filter") => {
                return Err(ProviderError::Refused("the provider's content filter blocked this scenario".into()));
            }
            Some("length") => return Err(ProviderError::Malformed("the answer was cut off at the token limit".into())),
            _ => {}
        }
        let text = message
            .content
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ProviderError::Malformed("the answer is empty".into()))?;
        let usage = completion.usage.map_or_else(TokenUsage::default, |u| TokenUsage {
            prompt: u.prompt_tokens,
            completion: u.completion_tokens,
            total: u.total_tokens.unwrap_or(u.prompt_tokens.saturating_add(u.completion_tokens)),
        });
        Ok(ModelOutput { text, model: completion.model.unwrap_or_else(|| self.model.clone()), usage })
    }
}

/// Azure OpenAI answers a filtered prompt with 400 and `error.code: "content_filter"`.
fn error(answer: &Answer) -> ProviderError {
    let code = answer.json().and_then(|v| v.pointer("/error/code").and_then(|c| c.as_str().map(str::to_string)));
    if answer.status == 400 && code.as_deref() == Some("content_filter") {
        return ProviderError::Refused("the provider's content filter blocked this topic".into());
    }
    http::status_error(NAME, answer)
}
