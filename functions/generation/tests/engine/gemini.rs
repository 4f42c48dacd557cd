//! The Gemini generateContent adapter against a fake server.

use crate::common;

use common::{FOREVER, FakeServer, PATIENT, Reply, SHORT, request, scenario_json};
use serde_json::json;
use std::time::Duration;
use whatif_generation::provider::{ProviderError, ScenarioModel, TokenUsage};
use whatif_generation::providers::Gemini;

fn generated(text: &str, finish_reason: &str) -> serde_json::Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": finish_reason,
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 200, "candidatesTokenCount": 150, "thoughtsTokenCount": 50, "totalTokenCount": 400},
        "modelVersion": "gemini-2.5-flash"
    })
}

async fn model(server: &FakeServer, timeout: Duration) -> Gemini {
    Gemini::new(server.config("gemini-2.5-flash", timeout)).unwrap()
}

#[tokio::test]
async fn success_speaks_generate_content_and_reports_usage() {
    let server = FakeServer::start(vec![Reply::ok(generated(&scenario_json(), "STOP"))]).await;
    let out = model(&server, PATIENT).await.generate(&request()).await.unwrap();
    assert_eq!(out.text, scenario_json());
    assert_eq!(out.model, "gemini-2.5-flash");
    assert_eq!(out.usage, TokenUsage { prompt: 200, completion: 200, total: 400 });

    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1beta/models/gemini-2.5-flash:generateContent"));
    assert_eq!(sent.header("x-goog-api-key"), Some("test-key-123"));
    assert_eq!(sent.body["generationConfig"]["responseMimeType"], "application/json");
    assert_eq!(sent.body["generationConfig"]["maxOutputTokens"], 1600);
    assert!(sent.body["systemInstruction"]["parts"][0]["text"].as_str().unwrap().contains("\"sections\""));
    assert_eq!(sent.body["contents"][0]["role"], "user");
}

#[tokio::test]
async fn rate_limits_carry_retry_after_from_the_header_or_the_body() {
    let header =
        Reply::status(429, json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota"}}))
            .with_header("retry-after", "5");
    let body = Reply::status(
        429,
        json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota", "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"}
        ]}}),
    );
    let server = FakeServer::start(vec![header, body]).await;
    let m = model(&server, PATIENT).await;
    assert_eq!(
        m.generate(&request()).await.unwrap_err(),
        ProviderError::RateLimited { retry_after: Some(Duration::from_secs(5)) }
    );
    assert_eq!(
        m.generate(&request()).await.unwrap_err(),
        ProviderError::RateLimited { retry_after: Some(Duration::from_secs(31)) }
    );
}

#[tokio::test]
async fn server_errors_and_bad_keys_are_told_apart() {
    let server = FakeServer::start(vec![
        Reply::status(500, json!({"error": {"code": 500, "status": "INTERNAL", "message": "internal"}})),
        Reply::status(400, json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "API key not valid", "details": [{"reason": "API_KEY_INVALID"}]}})),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(500));
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Unauthorized);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = FakeServer::start(vec![Reply::Hang(FOREVER)]).await;
    assert_eq!(model(&server, SHORT).await.generate(&request()).await.unwrap_err(), ProviderError::Timeout);
}

#[tokio::test]
async fn truncated_json_is_malformed() {
    let body = generated(&scenario_json(), "STOP").to_string();
    let server = FakeServer::start(vec![Reply::Raw { status: 200, body: body[..body.len() / 3].to_string() }]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn blocked_prompts_and_safety_stops_are_refused() {
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}});
    let server = FakeServer::start(vec![
        Reply::ok(blocked),
        Reply::ok(generated("", "SAFETY")),
        Reply::ok(generated("{\"title\":", "MAX_TOKENS")),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(why) if why.contains("SAFETY")));
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(why) if why.contains("SAFETY")));
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Malformed(_)));
}
