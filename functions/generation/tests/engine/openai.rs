//! The OpenAI-compatible adapter against a fake chat-completions server.

use crate::common;

use common::{FOREVER, FakeServer, PATIENT, Reply, SHORT, request, scenario_json};
use serde_json::json;
use std::time::Duration;
use whatif_generation::provider::{ProviderError, ScenarioModel, TokenUsage};
use whatif_generation::providers::OpenAiCompatible;

fn completion(content: &str, finish_reason: &str) -> serde_json::Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 123, "total_tokens": 444}
    })
}

async fn model(server: &FakeServer, timeout: Duration) -> OpenAiCompatible {
    OpenAiCompatible::new(server.config("gpt-4o-mini", timeout)).unwrap()
}

#[tokio::test]
async fn success_speaks_chat_completions_and_reports_usage() {
    let server = FakeServer::start(vec![Reply::ok(completion(&scenario_json(), "stop"))]).await;
    let out = model(&server, PATIENT).await.generate(&request()).await.unwrap();
    assert_eq!(out.text, scenario_json());
    assert_eq!(out.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(out.usage, TokenUsage { prompt: 321, completion: 123, total: 444 });

    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(sent.header("authorization"), Some("Bearer test-key-123"));
    assert_eq!(sent.body["model"], "gpt-4o-mini");
    assert_eq!(sent.body["response_format"], json!({"type": "json_object"}));
    assert_eq!(sent.body["messages"][0]["role"], "system");
    assert_eq!(sent.body["messages"][1]["role"], "user");
    assert!(
        sent.body["messages"][1]["content"].as_str().unwrap().contains("<topic>What if the Moon vanished?</topic>")
    );
    assert_eq!(sent.body["max_tokens"], 1600);
}

#[tokio::test]
async fn no_key_means_no_authorization_header() {
    let server = FakeServer::start(vec![Reply::ok(completion(&scenario_json(), "stop"))]).await;
    let mut config = server.config("llama3.2", PATIENT);
    config.api_key = None;
    OpenAiCompatible::new(config).unwrap().generate(&request()).await.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let limited = Reply::status(429, json!({"error": {"message": "Rate limit reached", "type": "requests"}}))
        .with_header("retry-after", "7");
    let server = FakeServer::start(vec![limited]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert_eq!(err, ProviderError::RateLimited { retry_after: Some(Duration::from_secs(7)) });
}

#[tokio::test]
async fn server_errors_and_bad_keys_are_told_apart() {
    let server = FakeServer::start(vec![
        Reply::status(500, json!({"error": {"message": "The server had an error"}})),
        Reply::status(401, json!({"error": {"message": "Incorrect API key provided"}})),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Server(500));
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Unauthorized);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = FakeServer::start(vec![Reply::Hang(FOREVER)]).await;
    let err = model(&server, SHORT).await.generate(&request()).await.unwrap_err();
    assert_eq!(err, ProviderError::Timeout);
}

#[tokio::test]
async fn truncated_json_is_malformed() {
    let body = completion(&scenario_json(), "stop").to_string();
    let server = FakeServer::start(vec![Reply::Raw { status: 200, body: body[..body.len() / 2].to_string() }]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Malformed(why) if why.contains("cut off")), "{err:?}");
}

#[tokio::test]
async fn a_cut_off_answer_is_malformed() {
    let server = FakeServer::start(vec![Reply::ok(completion("{\"title\": \"What if", "length"))]).await;
    let err = model(&server, PATIENT).await.generate(&request()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Malformed(why) if why.contains("token limit")), "{err:?}");
}

#[tokio::test]
async fn refusals_and_content_filters_are_refused() {
    let mut refusal = completion("", "stop");
    refusal["choices"][0]["message"] =
        json!({"role": "assistant", "content": null, "refusal": "I can't help with that."});
    let server = FakeServer::start(vec![
        Reply::ok(refusal),
        Reply::ok(completion("", "content_filter")),
        Reply::status(400, json!({"error": {"code": "content_filter", "message": "The prompt was filtered"}})),
    ])
    .await;
    let m = model(&server, PATIENT).await;
    assert_eq!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused("I can't help with that.".into()));
    assert!(
        matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(why) if why.contains("content filter"))
    );
    assert!(matches!(m.generate(&request()).await.unwrap_err(), ProviderError::Refused(_)));
}

#[tokio::test]
async fn nothing_listening_is_a_network_error() {
    let server = FakeServer::start(vec![]).await;
    let base = server.base_url.clone();
    drop(server);
    // Bind and close a port so nothing listens on it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = whatif_generation::providers::HttpProviderConfig {
        base_url: format!("http://{closed}"),
        model: "gpt-4o-mini".into(),
        api_key: None,
        timeout: PATIENT,
    };
    let err = OpenAiCompatible::new(config.clone()).unwrap().generate(&request()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Network(_)), "{err:?}");
    config.base_url = format!("{base}?x=1");
    assert!(OpenAiCompatible::new(config).is_err(), "a base URL with a query is refused");
}
