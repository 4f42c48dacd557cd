//! Amazon Bedrock Converse.
//!
//! `POST {base}/model/{modelId}/converse`, signed with AWS Signature V4
//! (service `bedrock`) by the small signer below, on `hmac` and `sha2` (no
//! AWS SDK crate). Credentials are the standard variables
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which
//! is how Lambda hands a function its role; profiles and SSO are not read.
//! Temperature is halved to the 0–1 scale the Converse models take.
//! `stopReason: "guardrail_intervened"` or `"content_filtered"` is
//! [`ProviderError::Refused`], `"max_tokens"` a cut-off answer; 429
//! (`ThrottlingException`) is [`ProviderError::RateLimited`], 403 (access
//! denied, bad credentials) [`ProviderError::Unauthorized`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use whatif_shared::clock::Clock;

use super::http;
use super::{BuildError, HttpProviderConfig};
use crate::provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel, TokenUsage};

const NAME: &str = "bedrock";
const SERVICE: &str = "bedrock";

/// AWS credentials. `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockConfig {
    /// `base_url` is e.g. `https://bedrock-runtime.us-east-1.amazonaws.com`; `api_key` is unused.
    pub http: HttpProviderConfig,
    pub region: String,
    pub credentials: AwsCredentials,
}

pub struct Bedrock {
    http: reqwest::Client,
    url: reqwest::Url,
    /// The path as signed: each segment encoded twice, as SigV4 wants for every service but S3.
    canonical_uri: String,
    host: String,
    model: String,
    region: String,
    credentials: AwsCredentials,
    clock: Arc<dyn Clock>,
}

impl Bedrock {
    pub fn default_base_url(region: &str) -> String {
        format!("https://bedrock-runtime.{region}.amazonaws.com")
    }

    pub fn new(config: BedrockConfig, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        let (http, base) = http::client(NAME, &config.http)?;
        let bad = |reason: String| BuildError { provider: NAME, reason };
        if config.region.is_empty() || !config.region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad(format!("region {:?} is not valid", config.region)));
        }
        let segments = ["model", config.http.model.as_str(), "converse"];
        let path: Vec<String> = segments.iter().map(|s| uri_encode(s)).collect();
        let canonical: Vec<String> = path.iter().map(|s| uri_encode(s)).collect();
        let url = reqwest::Url::parse(&format!("{base}/{}", path.join("/"))).map_err(|e| bad(format!("URL: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => return Err(bad(format!("base URL {base:?} has no host"))),
        };
        let prefix = url.path().strip_suffix(&format!("/{}", path.join("/"))).unwrap_or_default().to_string();
        Ok(Bedrock {
            http,
            canonical_uri: format!("{prefix}/{}", canonical.join("/")),
            url,
            host,
            model: config.http.model,
            region: config.region,
            credentials: config.credentials,
            clock,
        })
    }

    fn body(&self, req: &ModelRequest) -> serde_json::Value {
        let messages: Vec<_> =
            req.messages.iter().map(|m| json!({"role": m.role.as_str(), "content": [{"text": m.content}]})).collect();
        json!({
            "system": [{"text": req.system}],
            "messages": messages,
            "inferenceConfig": {"maxTokens": req.max_tokens, "temperature": (req.temperature / 2.0).clamp(0.0, 1.0)},
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    output: Option<Output>,
    stop_reason: Option<String>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Output {
    message: Option<OutputMessage>,
}

#[derive(Deserialize)]
struct OutputMessage {
    #[serde(default)]
    content: Vec<ContentBlock>,
}

#[derive(Deserialize)]
struct ContentBlock {
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
    total_tokens: Option<u32>,
}

#[async_trait]
impl ScenarioModel for Bedrock {
    fn name(&self) -> &str {
        NAME
    }

    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let body = serde_json::to_vec(&self.body(req)).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let now = self.clock.now();
        let signed = sign(&SigningRequest {
            method: "POST",
            host: &self.host,
            canonical_uri: &self.canonical_uri,
            canonical_query: "",
            content_type: "application/json",
            payload: &body,
            service: SERVICE,
            region: &self.region,
            credentials: &self.credentials,
            at: now,
        });
        let mut request = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("x-amz-date", &signed.amz_date)
            .header("authorization", signed.authorization)
            .body(body);
        if let Some(token) = &self.credentials.session_token {
            request = request.header("x-amz-security-token", token);
        }
        let answer = http::send(request).await?;
        if !(200..300).contains(&answer.status) {
            return Err(http::status_error(NAME, &answer));
        }
        let response: ConverseResponse = http::parse(&answer, "Converse response")?;
        let text: String = response
            .output
            .and_then(|o| o.message)
            .map(|m| m.content.into_iter().filter_map(|b| b.text).collect())
            .unwrap_or_default();
        match response.stop_reason.as_deref() {
            Some(reason @ ("guardrail_intervened" | "content_filtered")) => {
                return Err(ProviderError::Refused(format!("the provider blocked this scenario ({reason})")));
            }
            Some("max_tokens") => {
                return Err(ProviderError::Malformed("the answer was cut off at the token limit".into()));
            }
            _ => {}
        }
        if text.trim().is_empty() {
            return Err(ProviderError::Malformed("the answer has no text".into()));
        }
        let usage = response.usage.map_or_else(TokenUsage::default, |u| TokenUsage {
            prompt: u.input_tokens,
            completion: u.output_tokens,
            total: u.total_tokens.unwrap_or(u.input_tokens.saturating_add(u.output_tokens)),
        });
        Ok(ModelOutput { text, model: self.model.clone(), usage })
    }
}

// ---- Signature Version 4 ----------------------------------------------------------

/// What is signed: the request line, `content-type`, `host`, `x-amz-date`,
/// `x-amz-security-token` (with a session token), and the payload's hash.
pub struct SigningRequest<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// The path, each segment URI-encoded (twice for every service but S3).
    pub canonical_uri: &'a str,
    /// Sorted, encoded `name=value` pairs joined by `&` (empty for none).
    pub canonical_query: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    pub service: &'a str,
    pub region: &'a str,
    pub credentials: &'a AwsCredentials,
    pub at: OffsetDateTime,
}

pub struct Signed {
    /// The `x-amz-date` header: `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The `authorization` header.
    pub authorization: String,
}

pub fn sign(r: &SigningRequest<'_>) -> Signed {
    let at = r.at.to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day());
    let amz_date = format!("{date}T{:02}{:02}{:02}Z", at.hour(), at.minute(), at.second());

    let mut headers = vec![
        ("content-type", r.content_type.trim().to_string()),
        ("host", r.host.to_string()),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = &r.credentials.session_token {
        headers.push(("x-amz-security-token", token.clone()));
    }
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        r.method,
        r.canonical_uri,
        r.canonical_query,
        hex(&Sha256::digest(r.payload))
    );
    let scope = format!("{date}/{}/{}/aws4_request", r.region, r.service);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let mut key = hmac(format!("AWS4{}", r.credentials.secret_access_key).as_bytes(), date.as_bytes());
    for part in [r.region, r.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    Signed {
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            r.credentials.access_key_id
        ),
        amz_date,
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986: everything but unreserved characters is percent-encoded.
fn uri_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the AWS documentation ("Create a signed AWS API request").
    #[test]
    fn signs_the_documented_example() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let signed = sign(&SigningRequest {
            method: "GET",
            host: "iam.amazonaws.com",
            canonical_uri: "/",
            canonical_query: "Action=ListUsers&Version=2010-05-08",
            content_type: "application/x-www-form-urlencoded; charset=utf-8",
            payload: b"",
            service: "iam",
            region: "us-east-1",
            credentials: &credentials,
            at: time::macros::datetime!(2015-08-30 12:36:00 UTC),
        });
        assert_eq!(signed.amz_date, "20150830T123600Z");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn model_ids_are_encoded_once_in_the_url_and_twice_when_signed() {
        let config = BedrockConfig {
            http: HttpProviderConfig {
                base_url: "https://bedrock-runtime.us-east-1.amazonaws.com".into(),
                model: "anthropic.claude-3-haiku-20240307-v1:0".into(),
                api_key: None,
                timeout: std::time::Duration::from_secs(5),
            },
            region: "us-east-1".into(),
            credentials: AwsCredentials {
                access_key_id: "A".into(),
                secret_access_key: "S".into(),
                session_token: None,
            },
        };
        let b = Bedrock::new(config, Arc::new(whatif_shared::clock::SystemClock)).unwrap();
        assert_eq!(b.url.path(), "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
        assert_eq!(b.canonical_uri, "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
        assert_eq!(b.host, "bedrock-runtime.us-east-1.amazonaws.com");
        assert!(!format!("{:?}", b.credentials).contains("\"S\""));
    }
}
