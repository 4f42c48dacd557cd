//! The Bedrock Converse adapter against a fake server: the wire shape, the
//! SigV4 headers (re-derived from what actually arrived), and the failures.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{FOREVER, FakeServer, PATIENT, Reply, SHORT, request, scenario_json};
use serde_json::json;
use whatif_generation::provider::{ProviderError, ScenarioModel, TokenUsage};
use whatif_generation::providers::bedrock::{SigningRequest, sign};
use whatif_generation::providers::{AwsCredentials, Bedrock, BedrockConfig};
use whatif_shared::clock::FixedClock;

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn credentials() -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("session-token-xyz".into()),
    }
}

fn model(server: &FakeServer, timeout: Duration) -> Bedrock {
    let mut http = server.config(MODEL, timeout);
    http.api_key = None;
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2026-11-27 12:34:56 UTC)));
    Bedrock::new(BedrockConfig { http, region: "us-east-1".into(), credentials: credentials() }, clock).unwrap()
}

fn converse(text: &str, stop_reason: &str) -> serde_json::Value {
    json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 300, "outputTokens": 200, "totalTokens": 500},
        "metrics": {"latencyMs": 1234}
    })
}

#[tokio::test]
async fn success_speaks_converse_signed_with_sigv4() {
    let server = FakeServer::start(vec![Reply::ok(converse(&scenario_json(), "end_turn"))]).await;
    let out = model(&server, PATIENT).generate(&request()).await.unwrap();
    assert_eq!(out.text, scenario_json());
    assert_eq!(out.model, MODEL);
    assert_eq!(out.usage, TokenUsage { prompt: 300, completion: 200, total: 500 });

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    assert_eq!(sent.body["system"][0]["text"].as_str().map(|s| s.contains("\"sections\"")), Some(true));
    assert_eq!(sent.body["messages"][0]["role"], "user");
    assert_eq!(sent.body["inferenceConfig"]["maxTokens"], 1600);
    assert_eq!(sent.header("x-amz-date"), Some("20261127T123456Z"));
    assert_eq!(sent.header("x-amz-security-token"), Some("session-token-xyz"));

    // What arrived (host with port, path, body) is exactly what was signed.
    let authorization = sent.header("authorization").unwrap();
    assert!(authorization.starts_with(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/bedrock/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
    ));
    let expected = sign(&SigningRequest {
        method: "POST",
        host: sent.header("host").unwrap(),
        canonical_uri: &sent.path.replace('%', "%25"),
        canonical_query: "",
        content_type: sent.header("content-type").unwrap(),
        payload: &sent.raw,
        service: "bedrock",
        region: "us-east-1",
        credentials: &credentials(),
        at: time::macros::datetime!(2026-11-27 12:34:56 UTC),
    });
    assert_eq!(authorization, expected.authorization);
}

#[tokio::test]
async fn throttling_is_rate_limited_and_access_denied_is_unauthorized() {
    let server = FakeServer::start(vec![
        Reply::status(429, json!({"message": "Too many requests, please wait before trying again."}))
            .with_header("x-amzn-ErrorType", "ThrottlingException"),
        Reply::status(403, json!({"message": "The security token included in the request is invalid."})),
        Reply::status(500, json!({"message": "InternalServerException"})),
        Reply::status(503, json!({"message": "ServiceUnavailableException"})),
    ])
    .await;
    let m = model(&server, PATIENT);
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::RateLimited { retry_after: None });
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Unauthorized);
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(500));
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(503));
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = FakeServer::start(vec![Reply::Hang(FOREVER)]).await;
    assert_eq!(model(&server, SHORT).generate(&request()).await.unwrap_err(), ProviderError::Timeout);
}

#[tokio::test]
async fn truncated_json_is_malformed() {
    let body = converse(&scenario_json(), "end_turn").to_string();
    let server = FakeServer::start(vec![Reply::Raw { status: 200, body: body[..body.len() / 2].to_string() }]).await;
    assert!(matches!(model(&server, PATIENT).generate(&request()).await.unwrap_err(), ProviderError::Malformed(_)));
}

#[tokio::test]
async fn guardrails_and_content_filters_are_refused() {
    let server = FakeServer::start(vec![
        Reply::ok(converse("Sorry, the model cannot answer this question.", "guardrail_intervened")),
        Reply::ok(converse("", "content_filtered")),
        Reply::ok(converse("{\"title\":", "max_tokens")),
    ])
    .await;
    let m = model(&server, PATIENT);
    assert!(
        matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(why) if why.contains("guardrail"))
    );
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(_)));
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Malformed(_)));
}
