//! What the HTTP adapters share: the client, sending, and the meaning of
//! statuses and transport errors.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{BuildError, HttpProviderConfig};
use crate::provider::ProviderError;

/// The client of one provider, with its timeout; the base URL checked and
/// without a trailing slash.
pub(crate) fn client(
    provider: &'static str,
    config: &HttpProviderConfig,
) -> Result<(reqwest::Client, String), BuildError> {
    let base = config.base_url.trim().trim_end_matches('/').to_string();
    let parsed =
        reqwest::Url::parse(&base).map_err(|e| BuildError { provider, reason: format!("base URL {base:?}: {e}") })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(BuildError { provider, reason: format!("base URL {base:?} must be http(s) without a query") });
    }
    if config.model.is_empty()
        || config.model.len() > 200
        || !config.model.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:/@".contains(&b))
    {
        return Err(BuildError { provider, reason: format!("model name {:?} is not valid", config.model) });
    }
    if config.timeout.is_zero() {
        return Err(BuildError { provider, reason: "the timeout must be more than zero".into() });
    }
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("whatif-generation/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| BuildError { provider, reason: format!("HTTP client: {e}") })?;
    Ok((http, base))
}

/// An answer: status, headers, body.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The provider's error message, for the log (`error.message`, at most 300 characters).
    pub fn error_message(&self) -> String {
        let message = self
            .json()
            .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        message.chars().take(300).collect()
    }
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(transport)?.to_vec();
    Ok(Answer { status, headers, body })
}

fn transport(err: reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        return ProviderError::Timeout;
    }
    // reqwest's own text is terse ("error sending request"); its sources say why.
    // The URL is the provider's, never a key (keys go in headers), but leave it out anyway.
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ProviderError::Network(text)
}

/// The error for a status that is not success: 429, 401/403, and the rest.
pub(crate) fn status_error(provider: &'static str, answer: &Answer) -> ProviderError {
    let message = answer.error_message();
    match answer.status {
        429 => {
            tracing::warn!(provider, status = 429, error = %message, "model provider rate limited us");
            ProviderError::RateLimited { retry_after: retry_after(&answer.headers, answer.json().as_ref()) }
        }
        401 | 403 => {
            // Not the body: some providers echo part of the key in it.
            tracing::error!(provider, status = answer.status, "model provider refused our key");
            ProviderError::Unauthorized
        }
        408 | 504 => ProviderError::Timeout,
        status => {
            tracing::warn!(provider, status, error = %message, "model provider failed");
            ProviderError::Server(status)
        }
    }
}

/// `retry-after-ms`, `retry-after` (seconds or an HTTP date), or Google's
/// `RetryInfo.retryDelay` ("30s") in the error body.
pub(crate) fn retry_after(headers: &HeaderMap, body: Option<&Value>) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) =
        header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_millis(ms.ceil() as u64));
    }
    if let Some(value) = header("retry-after") {
        if let Ok(secs) = value.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_secs(secs.ceil() as u64));
        }
        if let Ok(at) = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822) {
            let wait = at - time::OffsetDateTime::now_utc();
            return Some(Duration::from_secs(wait.whole_seconds().max(0) as u64));
        }
    }
    let details = body?.pointer("/error/details")?.as_array()?;
    details.iter().find_map(|d| {
        let delay = d.get("retryDelay")?.as_str()?.strip_suffix('s')?;
        let secs = delay.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)?;
        Some(Duration::from_secs(secs.ceil() as u64))
    })
}

/// Parses a success body into the provider's response shape.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(answer: &Answer, what: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(&answer.body).map_err(|e| {
        if e.is_eof() {
            ProviderError::Malformed(format!("the {what} is cut off ({e})"))
        } else {
            ProviderError::Malformed(format!("not a {what}: {e}"))
        }
    })
}
