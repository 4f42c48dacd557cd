//! The Anthropic Messages adapter against a fake server.

use crate::common;

use common::{FOREVER, FakeServer, PATIENT, Reply, SHORT, request, scenario_json};
use serde_json::json;
use std::time::Duration;
use whatif_generation::provider::{ProviderError, ScenarioModel, TokenUsage};
use whatif_generation::providers::Anthropic;

fn message(text: &str, stop_reason: &str) -> serde_json::Value {
    json!({
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 250, "output_tokens": 90}
    })
}

fn error(kind: &str, message: &str) -> serde_json::Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

async fn model(server: &FakeServer, timeout: Duration) -> Anthropic {
    Anthropic::new(server.config("claude-haiku-4-5", timeout)).unwrap()
}

#[tokio::test]
async fn success_speaks_messages_and_reports_usage() {
    let fenced = format!("```json\n{}\n```", scenario_json());
    let server = FakeServer::start(vec![Reply::ok(message(&fenced, "end_turn"))]).await;
    let out = model(&server, PATIENT).await.generate(&request()).await.unwrap();
    assert_eq!(out.text, fenced);
    assert_eq!(out.model, "claude-haiku-4-5-20251001");
    assert_eq!(out.usage, TokenUsage { prompt: 250, completion: 90, total: 340 });

    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(sent.header("x-api-key"), Some("test-key-123"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.body["model"], "claude-haiku-4-5");
    assert!(sent.body["system"].as_str().unwrap().contains("\"choices\""));
    assert_eq!(sent.body["messages"][0]["role"], "user");
    assert_eq!(sent.body["max_tokens"], 1600);
    // 0.8 on the 0–2 scale is 0.4 on Anthropic's 0–1.
    assert!((sent.body["temperature"].as_f64().unwrap() - 0.4).abs() < 1e-6);
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let limited = Reply::status(429, error("rate_limit_error", "Number of requests has exceeded your rate limit"))
        .with_header("retry-after", "12");
    let server = FakeServer::start(vec![limited]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert_eq!(err, ProviderError::RateLimited { retry_after: Some(Duration::from_secs(12)) });
}

#[tokio::test]
async fn server_errors_and_overload_are_server_errors() {
    let server = FakeServer::start(vec![
        Reply::status(500, error("api_error", "Internal server error")),
        Reply::status(529, error("overloaded_error", "Overloaded")),
        Reply::status(401, error("authentication_error", "invalid x-api-key")),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(500));
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(529));
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Unauthorized);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = FakeServer::start(vec![Reply::Hang(FOREVER)]).await;
    assert_eq!(model(&server, SHORT).await.generate(&request()).await.unwrap_err(), ProviderError::Timeout);
}

#[tokio::test]
async fn truncated_json_is_malformed() {
    let body = message(&scenario_json(), "end_turn").to_string();
    let server = FakeServer::start(vec![Reply::Raw { status: 200, body: body[..body.len() - 20].to_string() }]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn a_refusal_is_refused_and_max_tokens_is_malformed() {
    let server = FakeServer::start(vec![
        Reply::ok(message("", "refusal")),
        Reply::ok(message("{\"title\": \"What if", "max_tokens")),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert!(
        matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(why) if why.contains("declined"))
    );
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Malformed(_)));
}

#[tokio::test]
async fn a_key_is_required() {
    let server = FakeServer::start(vec![]).await;
    let mut config = server.config("claude-haiku-4-5", PATIENT);
    config.api_key = None;
    assert!(Anthropic::new(config).is_err());
}
