//! Google Gemini `generateContent`.
//!
//! `POST {base}/v1beta/models/{model}:generateContent` with `x-goog-api-key`
//! (never in the URL), `generationConfig.responseMimeType:
//! "application/json"`. A blocked prompt (`promptFeedback.blockReason`) or a
//! candidate stopped for safety (`finishReason: "SAFETY"`, `PROHIBITED_CONTENT`,
//! ...) is [`ProviderError::Refused`]; `MAX_TOKENS` a cut-off answer. Usage
//! from `usageMetadata` (thinking tokens count as completion).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::http::{self, Answer};
use super::{ApiKey, BuildError, HttpProviderConfig};
use crate::provider::{ModelOutput, ModelRequest, ProviderError, Role, ScenarioModel, TokenUsage};

const NAME: &str = "gemini";

pub struct Gemini {
    http: reqwest::Client,
    url: String,
    model: String,
    key: ApiKey,
}

impl Gemini {
    pub const DEFAULT_BASE_URL: &'static str = "https://generativelanguage.googleapis.com";

    pub fn new(config: HttpProviderConfig) -> Result<Self, BuildError> {
        let (http, base) = http::client(NAME, &config)?;
        if config.model.contains(['/', ':', '@']) {
            return Err(BuildError { provider: NAME, reason: format!("model name {:?} is not valid", config.model) });
        }
        let key =
            config.api_key.ok_or_else(|| BuildError { provider: NAME, reason: "an API key is required".into() })?;
        Ok(Gemini {
            http,
            url: format!("{base}/v1beta/models/{}:generateContent", config.model),
            model: config.model,
            key,
        })
    }

    fn body(&self, req: &ModelRequest) -> serde_json::Value {
        let contents: Vec<_> = req
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "model",
                };
                json!({"role": role, "parts": [{"text": m.content}]})
            })
            .collect();
        json!({
            "systemInstruction": {"parts": [{"text": req.system}]},
            "contents": contents,
            "generationConfig": {
                "temperature": req.temperature,
                "maxOutputTokens": req.max_tokens,
                "responseMimeType": "application/json",
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse {
    candidates: Option<Vec<Candidate>>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    parts: Option<Vec<Part>>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
    thought: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    #[serde(default)]
    thoughts_token_count: u32,
    total_token_count: Option<u32>,
}

const SAFETY_STOPS: [&str; 6] = ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"];

#[async_trait]
impl ScenarioModel for Gemini {
    fn name(&self) -> &str {
        NAME
    }

    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let request = self.http.post(&self.url).header("x-goog-api-key", self.key.expose()).json(&self.body(req));
        let answer = http::send(request).await?;
        if !(200..300).contains(&answer.status) {
            return Err(error(&answer));
        }
        let response: GenerateResponse = http::parse(&answer, "generateContent response")?;
        if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
            return Err(ProviderError::Refused(format!("the provider blocked this topic ({reason})")));
        }
        let candidate = response
            .candidates
            .and_then(|c| c.into_iter().next())
            .ok_or_else(|| ProviderError::Malformed("the answer has no candidates".into()))?;
        match candidate.finish_reason.as_deref() {
            Some(reason) if SAFETY_STOPS.contains(&reason) => {
                return Err(ProviderError::Refused(format!("the provider stopped this scenario ({reason})")));
            }
            Some("MAX_TOKENS") => {
                return Err(ProviderError::Malformed("the answer was cut off at the token limit".into()));
            }
            _ => {}
        }
        let text: String = candidate
            .content
            .and_then(|c| c.parts)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text)
            .collect();
        if text.trim().is_empty() {
            return Err(ProviderError::Malformed("the answer has no text".into()));
        }
        let usage = response.usage_metadata.map_or_else(TokenUsage::default, |u| {
            let completion = u.candidates_token_count.saturating_add(u.thoughts_token_count);
            TokenUsage {
                prompt: u.prompt_token_count,
                completion,
                total: u.total_token_count.unwrap_or(u.prompt_token_count.saturating_add(completion)),
            }
        });
        Ok(ModelOutput { text, model: response.model_version.unwrap_or_else(|| self.model.clone()), usage })
    }
}

/// Gemini answers a bad key with 400 `API_KEY_INVALID`, not 401.
fn error(answer: &Answer) -> ProviderError {
    if answer.status == 400 && String::from_utf8_lossy(&answer.body).contains("API_KEY_INVALID") {
        tracing::error!(provider = NAME, "model provider refused our key");
        return ProviderError::Unauthorized;
    }
    http::status_error(NAME, answer)
}
