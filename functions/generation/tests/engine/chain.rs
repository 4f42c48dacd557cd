//! The provider chain over real adapters and fake servers: fall-through,
//! circuit breakers on an injected clock, the repair round, refusals.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{FOREVER, FakeServer, PATIENT, Reply, SHORT, scenario_json};
use serde_json::json;
use whatif_generation::chain::{
    AttemptOutcome, BreakerPolicy, ChainConfig, ChainConfigError, CircuitState, GenerationError, ProviderChain,
    ProviderConfig,
};
use whatif_generation::provider::{ProviderError, ScenarioModel, TokenUsage};
use whatif_generation::providers::{Anthropic, Offline, OpenAiCompatible};
use whatif_generation::scenario::{GenerationOptions, ScenarioSpec, Topic};
use whatif_shared::clock::FixedClock;

fn completion(content: &str) -> serde_json::Value {
    json!({
        "model": "gpt-4o-mini",
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    })
}

fn anthropic_error() -> Reply {
    Reply::status(500, json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}))
}

fn spec() -> ScenarioSpec {
    GenerationOptions::default().resolve(Topic::parse("What if the Moon vanished?").unwrap())
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(time::macros::datetime!(2026-11-27 12:00 UTC)))
}

fn chain(models: Vec<Arc<dyn ScenarioModel>>, failures: u32, clock: Arc<FixedClock>) -> ProviderChain {
    ProviderChain::new(models, BreakerPolicy { failures, cooldown: Duration::from_secs(30) }, clock)
}

fn openai(server: &FakeServer, timeout: Duration) -> Arc<dyn ScenarioModel> {
    Arc::new(OpenAiCompatible::new(server.config("gpt-4o-mini", timeout)).unwrap())
}

fn anthropic(server: &FakeServer) -> Arc<dyn ScenarioModel> {
    Arc::new(Anthropic::new(server.config("claude-haiku-4-5", PATIENT)).unwrap())
}

#[tokio::test]
async fn a_failing_provider_falls_through_to_the_next() {
    let first = FakeServer::start(vec![anthropic_error()]).await;
    let second = FakeServer::start(vec![Reply::ok(completion(&scenario_json()))]).await;
    let chain = chain(vec![anthropic(&first), openai(&second, PATIENT)], 3, clock());

    let generation = chain.generate(&spec(), None).await.unwrap();
    assert_eq!(generation.provider, "openai");
    assert_eq!(generation.model, "gpt-4o-mini");
    assert_eq!(generation.usage, TokenUsage { prompt: 100, completion: 50, total: 150 });
    assert_eq!(generation.prompt_version, whatif_generation::PROMPT_VERSION);
    assert!(!generation.repaired);
    assert_eq!(generation.scenario.title(), "What if the Moon vanished?");
    assert_eq!(generation.attempts.len(), 1);
    assert_eq!(generation.attempts[0].provider, "anthropic");
    assert_eq!(generation.attempts[0].outcome, AttemptOutcome::Failed(ProviderError::Server(500)));
    assert_eq!(first.requests().len(), 1);
}

#[tokio::test]
async fn timeouts_rate_limits_truncation_and_dead_servers_all_fall_through_to_offline() {
    let slow = FakeServer::start(vec![Reply::Hang(FOREVER)]).await;
    let limited = FakeServer::start(vec![
        Reply::status(429, json!({"error": {"message": "slow down"}})).with_header("retry-after", "9"),
    ])
    .await;
    let truncated = FakeServer::start(vec![Reply::Raw { status: 200, body: "{\"choices\": [{\"mess".into() }]).await;
    let dead_addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut dead_config = slow.config("gpt-4o-mini", PATIENT);
    dead_config.base_url = format!("http://{dead_addr}");
    let dead: Arc<dyn ScenarioModel> = Arc::new(OpenAiCompatible::new(dead_config).unwrap());

    let chain = chain(
        vec![openai(&slow, SHORT), openai(&limited, PATIENT), openai(&truncated, PATIENT), dead, Arc::new(Offline)],
        3,
        clock(),
    );
    let generation = chain.generate(&spec(), None).await.unwrap();
    assert_eq!(generation.provider, "offline");
    assert_eq!(generation.model, Offline::MODEL);
    let outcomes: Vec<_> = generation.attempts.iter().map(|a| a.outcome.clone()).collect();
    assert_eq!(outcomes[0], AttemptOutcome::Failed(ProviderError::Timeout));
    assert_eq!(
        outcomes[1],
        AttemptOutcome::Failed(ProviderError::RateLimited { retry_after: Some(Duration::from_secs(9)) })
    );
    assert!(matches!(&outcomes[2], AttemptOutcome::Failed(ProviderError::Malformed(_))), "{outcomes:?}");
    assert!(matches!(&outcomes[3], AttemptOutcome::Failed(ProviderError::Network(_))), "{outcomes:?}");
}

#[tokio::test]
async fn the_breaker_opens_after_consecutive_failures_and_probes_after_the_cooldown() {
    let flaky = FakeServer::start(vec![
        anthropic_error(),
        anthropic_error(),
        anthropic_error(),
        Reply::ok(json!({
            "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": scenario_json()}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 10, "output_tokens": 20}
        })),
    ])
    .await;
    let clock = clock();
    let chain = chain(vec![anthropic(&flaky), Arc::new(Offline)], 2, clock.clone());
    let state = |chain: &ProviderChain| chain.providers()[0].state;

    // Two failures in a row open it; offline answers meanwhile.
    for _ in 0..2 {
        assert_eq!(chain.generate(&spec(), None).await.unwrap().provider, "offline");
    }
    assert_eq!(flaky.requests().len(), 2);
    assert_eq!(state(&chain), CircuitState::Open);

    // Open: the provider is not called at all.
    let generation = chain.generate(&spec(), None).await.unwrap();
    assert_eq!(generation.attempts[0].outcome, AttemptOutcome::Skipped);
    assert_eq!(flaky.requests().len(), 2);

    // After the cool-down one probe goes through; it fails, so it opens again.
    clock.advance(Duration::from_secs(31));
    assert_eq!(state(&chain), CircuitState::HalfOpen);
    chain.generate(&spec(), None).await.unwrap();
    assert_eq!(flaky.requests().len(), 3);
    assert_eq!(state(&chain), CircuitState::Open);
    chain.generate(&spec(), None).await.unwrap();
    assert_eq!(flaky.requests().len(), 3);

    // The next probe succeeds and closes it.
    clock.advance(Duration::from_secs(31));
    let generation = chain.generate(&spec(), None).await.unwrap();
    assert_eq!(generation.provider, "anthropic");
    assert_eq!(state(&chain), CircuitState::Closed);
}

#[tokio::test]
async fn an_invalid_answer_gets_one_repair_round_with_the_reason() {
    let invalid = json!({"title": "T", "summary": "S", "sections": [], "choices": []}).to_string();
    let server =
        FakeServer::start(vec![Reply::ok(completion(&invalid)), Reply::ok(completion(&scenario_json()))]).await;
    let chain = chain(vec![openai(&server, PATIENT)], 3, clock());

    let generation = chain.generate(&spec(), None).await.unwrap();
    assert!(generation.repaired);
    assert_eq!(generation.usage, TokenUsage { prompt: 200, completion: 100, total: 300 });
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], invalid.as_str());
    let repair = messages[3]["content"].as_str().unwrap();
    assert!(repair.contains("sections: has 0, needs 3 to 5"), "{repair}");
    assert!(repair.contains("choices: has 0, needs 2 to 4"), "{repair}");
}

#[tokio::test]
async fn still_invalid_after_the_repair_is_a_clear_error_or_the_next_provider() {
    let server = FakeServer::start(vec![Reply::ok(completion("Sorry, here is a story instead."))]).await;
    let alone = chain(vec![openai(&server, PATIENT)], 3, clock());
    let err = alone.generate(&spec(), None).await.unwrap_err();
    match &err {
        GenerationError::InvalidOutput { provider, error, .. } => {
            assert_eq!(provider, "openai");
            assert!(error.to_string().contains("no JSON object"), "{error}");
        }
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "one answer and one repair round, no more");
    let api: whatif_shared::ApiError = err.into();
    assert_eq!(api.status.as_u16(), 503);
    assert!(!api.message.contains("Sorry"), "model text stays out of the answer");

    let with_offline = chain(vec![openai(&server, PATIENT), Arc::new(Offline)], 3, clock());
    let generation = with_offline.generate(&spec(), None).await.unwrap();
    assert_eq!(generation.provider, "offline");
    assert!(matches!(generation.attempts[0].outcome, AttemptOutcome::Invalid(_)));
}

#[tokio::test]
async fn a_refusal_ends_the_chain_with_its_reason() {
    let server = FakeServer::start(vec![Reply::ok(json!({
        "model": "gpt-4o-mini",
        "choices": [{"message": {"role": "assistant", "content": null, "refusal": "I can't write about that."}, "finish_reason": "stop"}]
    }))])
    .await;
    let chain = chain(vec![openai(&server, PATIENT), Arc::new(Offline)], 3, clock());
    let err = chain.generate(&spec(), None).await.unwrap_err();
    assert_eq!(err, GenerationError::Refused { provider: "openai".into(), reason: "I can't write about that.".into() });
    assert_eq!(chain.providers()[0].state, CircuitState::Closed, "a refusal is not an outage");
    let api: whatif_shared::ApiError = err.into();
    assert_eq!(api.status.as_u16(), 422);
    assert_eq!(api.code, "CONTENT_REFUSED");
    assert!(api.message.contains("I can't write about that."));
}

#[tokio::test]
async fn when_nothing_answers_the_error_says_when_to_retry() {
    let limited = FakeServer::start(vec![Reply::status(429, json!({})).with_header("retry-after", "20")]).await;
    let broken = FakeServer::start(vec![anthropic_error()]).await;
    let chain = chain(vec![openai(&limited, PATIENT), anthropic(&broken)], 1, clock());
    let err = chain.generate(&spec(), None).await.unwrap_err();
    assert!(
        matches!(&err, GenerationError::Unavailable { attempts, retry_after: Some(wait) } if attempts.len() == 2 && *wait == Duration::from_secs(20)),
        "{err:?}"
    );
    // Both breakers are now open (threshold 1): the retry hint is the cool-down.
    let err = chain.generate(&spec(), None).await.unwrap_err();
    assert!(
        matches!(&err, GenerationError::Unavailable { retry_after: Some(wait), .. } if *wait == Duration::from_secs(30)),
        "{err:?}"
    );
    let api: whatif_shared::ApiError = err.into();
    assert_eq!((api.status.as_u16(), api.retry_after), (503, Some(30)));
}

#[test]
fn configuration_comes_from_the_environment() {
    let env =
        |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();

    assert_eq!(ChainConfig::from_env(&env(&[])).unwrap(), ChainConfig::default());

    let config = ChainConfig::from_env(&env(&[
        ("WHATIF_MODEL_PROVIDERS", "anthropic, openai,offline"),
        ("ANTHROPIC_API_KEY", "sk-ant-secret"),
        ("WHATIF_OPENAI_BASE_URL", "http://127.0.0.1:11434"),
        ("WHATIF_OPENAI_MODEL", "llama3.2"),
        ("WHATIF_ANTHROPIC_TIMEOUT_MS", "15000"),
        ("WHATIF_MODEL_BREAKER_FAILURES", "5"),
    ]))
    .unwrap();
    assert_eq!(config.providers.len(), 3);
    assert_eq!(config.breaker.failures, 5);
    match &config.providers[0] {
        ProviderConfig::Anthropic(c) => assert_eq!(c.timeout, Duration::from_secs(15)),
        other => panic!("{other:?}"),
    }
    match &config.providers[1] {
        ProviderConfig::OpenAi(c) => assert!(c.api_key.is_none() && c.model == "llama3.2"),
        other => panic!("{other:?}"),
    }
    assert!(!format!("{config:?}").contains("sk-ant-secret"), "keys never reach Debug output");
    assert!(ProviderChain::from_config(&config, clock()).is_ok());

    let missing = ChainConfig::from_env(&env(&[("WHATIF_MODEL_PROVIDERS", "gemini")])).unwrap_err();
    assert_eq!(missing, ChainConfigError::Missing("GEMINI_API_KEY".into()));
    let renamed = ChainConfig::from_env(&env(&[
        ("WHATIF_MODEL_PROVIDERS", "gemini"),
        ("WHATIF_GEMINI_API_KEY_VAR", "GOOGLE_API_KEY"),
        ("GOOGLE_API_KEY", "g-key"),
    ]));
    assert!(renamed.is_ok());
    let bedrock = ChainConfig::from_env(&env(&[
        ("WHATIF_MODEL_PROVIDERS", "bedrock,offline"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-value"),
        ("AWS_SESSION_TOKEN", "aws-session-value"),
    ]))
    .unwrap();
    match &bedrock.providers[0] {
        ProviderConfig::Bedrock(c) => {
            assert_eq!(c.http.base_url, "https://bedrock-runtime.eu-west-1.amazonaws.com");
            assert_eq!(c.region, "eu-west-1");
        }
        other => panic!("{other:?}"),
    }
    let shown = format!("{bedrock:?}");
    assert!(!shown.contains("aws-secret-value") && !shown.contains("aws-session-value"), "{shown}");
    assert!(ProviderChain::from_config(&bedrock, clock()).is_ok());

    for bad in [
        vec![("WHATIF_MODEL_PROVIDERS", "openai,mystery")],
        vec![("WHATIF_MODEL_PROVIDERS", "offline,offline")],
        vec![("WHATIF_MODEL_PROVIDERS", "bedrock"), ("AWS_REGION", "us-east-1")],
        vec![("WHATIF_MODEL_PROVIDERS", "openai"), ("OPENAI_API_KEY", "k"), ("WHATIF_OPENAI_TIMEOUT_MS", "0")],
        vec![("WHATIF_MODEL_PROVIDERS", "openai")],
        vec![("WHATIF_MODEL_BREAKER_COOLDOWN_SECS", "forever")],
    ] {
        assert!(ChainConfig::from_env(&env(&bad)).is_err(), "{bad:?}");
    }
}
