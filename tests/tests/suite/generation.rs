//! Generation over HTTP through the local server: on the offline provider and
//! on a fake of each provider's wire protocol (tests/fake_model.rs).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use whatif_generation::engine;
use whatif_shared::keys::SCENARIO_PREFIX;
use whatif_shared::ports::table::{Index, Query, SortKey};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::TestServer;
use whatif_tests::api::{self, Answer, finished, get, sign_up};
use whatif_tests::fake_model::{FakeModel, Mode};

async fn post(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> Answer {
    api::post(server, path, token, body).await
}

async fn send_with(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> Answer {
    let headers: Vec<(&str, &str)> = idempotency_key.map(|k| ("idempotency-key", k)).into_iter().collect();
    api::send(server, method, path, token, body, &headers).await
}

/// A server on `dir` whose engine is the chain `env` describes.
async fn server_in(dir: &std::path::Path, env: &HashMap<String, String>, limits: &str) -> TestServer {
    let limits = RateLimits::parse(limits).expect("valid limits");
    let server = TestServer::start_in(dir, |config| {
        config.rate_limits = limits;
        config.job_visibility_secs = 2;
    })
    .await;
    use_engine(&server, env);
    server
}

const GENEROUS: &str = "auth=1000/15m,general=10000/15m,generate=1000/1h";

fn use_engine(server: &TestServer, env: &HashMap<String, String>) {
    let engine = engine::from_env(&server.ctx, env).expect("a valid engine configuration");
    server.ctx.set_extension(Arc::new(engine));
}

fn offline() -> HashMap<String, String> {
    HashMap::from([("WHATIF_MODEL_PROVIDERS".to_string(), "offline".to_string())])
}

async fn wait_for_status(server: &TestServer, token: &str, job_id: &str, status: &str) {
    let started = Instant::now();
    while get(server, &format!("/api/jobs/{job_id}"), Some(token)).await.data()["status"] != status {
        assert!(started.elapsed() < Duration::from_secs(20), "job {job_id} never became {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many scenarios the user has in the table.
async fn scenarios_of(server: &TestServer, user_id: &str) -> usize {
    let query =
        Query::partition(Index::Primary, format!("USER#{user_id}")).sk(SortKey::BeginsWith(SCENARIO_PREFIX.into()));
    server.ctx.table.query(&query).await.expect("the table answers").items.len()
}

fn generate_body(topic: &str) -> Value {
    json!({"topic": topic, "options": {"promptType": "scientific", "length": "short"}})
}

#[tokio::test]
async fn every_provider_writes_a_scenario_that_is_saved_for_a_signed_in_caller() {
    let fake = FakeModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &offline(), GENEROUS).await;
    let (token, _) = sign_up(&server, "every").await;
    for provider in ["offline", "openai", "anthropic", "gemini", "bedrock"] {
        use_engine(&server, &fake.env(provider));
        let topic = format!("What if the Moon vanished, asked of {provider}?");
        let mine = post(&server, "/api/generate", Some(&token), generate_body(&topic)).await;
        assert_eq!(mine.status, 200, "{provider}: {mine:?}");
        let scenario = &mine.data()["scenario"];
        assert_eq!(scenario["provider"], provider);
        assert_eq!(scenario["topic"], topic.as_str());
        assert_eq!(scenario["promptType"], "scientific");
        assert_eq!(mine.data()["saved"], true);
        let sections = scenario["sections"].as_array().unwrap();
        assert!((3..=5).contains(&sections.len()), "{scenario}");
        assert!(scenario["content"].as_str().unwrap().contains(sections[0]["heading"].as_str().unwrap()));
        assert!((2..=4).contains(&scenario["choices"].as_array().unwrap().len()));
        if provider != "offline" {
            assert_eq!(fake.calls(provider), 1, "{provider} was called once");
            assert_eq!(scenario["tokens"], json!({"prompt": 400, "completion": 300, "total": 700}));
            assert!(scenario["title"].as_str().unwrap().contains(&topic), "the fake wrote about the topic: {scenario}");
        }
        // Saved: the owner reads it back (its tree is itself).
        let id = scenario["id"].as_str().unwrap();
        let tree = get(&server, &format!("/api/scenarios/{id}/tree"), Some(&token)).await;
        assert_eq!(tree.status, 200, "{tree:?}");
        assert_eq!(tree.data()["path"], json!([id]));

        // Anonymous: answered, not saved (so nobody can read it back).
        let anonymous = post(&server, "/api/generate", None, generate_body(&format!("{topic} Anonymously"))).await;
        assert_eq!(anonymous.status, 200, "{anonymous:?}");
        assert_eq!(anonymous.data()["saved"], false);
        let id = anonymous.data()["scenario"]["id"].as_str().unwrap();
        assert_eq!(get(&server, &format!("/api/scenarios/{id}/tree"), None).await.status, 404);
    }
    let providers = get(&server, "/api/generation/providers", None).await;
    assert_eq!(providers.data()["providers"], json!([{"name": "bedrock", "state": "closed", "healthy": true}]));
}

#[tokio::test]
async fn async_and_long_requests_become_jobs_and_a_batch_runs_every_topic() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &offline(), GENEROUS).await;
    let (token, user_id) = sign_up(&server, "jobs").await;

    let started = post(
        &server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if photosynthesis were twice as efficient?", "options": {"async": true}}),
    )
    .await;
    assert_eq!(started.status, 202, "{started:?}");
    let job_id = started.data()["jobId"].as_str().unwrap().to_string();
    assert_eq!(started.data()["status"], "queued");
    assert_eq!(started.data()["pollUrl"], format!("/api/jobs/{job_id}"));
    let job = finished(&server, &token, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"], 100);
    assert_eq!(job["type"], "generation");
    let scenario = &job["result"]["scenario"];
    assert_eq!(scenario["topic"], "What if photosynthesis were twice as efficient?");
    assert_eq!(job["result"]["scenarioId"], scenario["id"]);
    assert!(job["result"]["usage"]["latencyMs"].is_u64(), "{job}");

    let long = post(
        &server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if the Silk Road had never closed?", "options": {"length": "long"}}),
    )
    .await;
    assert_eq!(long.status, 202, "a long scenario is a job: {long:?}");
    let job = finished(&server, &token, long.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(job["result"]["scenario"]["length"], "long");

    // Anonymous callers cannot poll: async is refused, long runs now.
    let refused =
        post(&server, "/api/generate", None, json!({"topic": "What if?!?", "options": {"async": true}})).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    let now = post(
        &server,
        "/api/generate",
        None,
        json!({"topic": "What if ice were heavier than water?", "options": {"length": "long"}}),
    )
    .await;
    assert_eq!(now.status, 200, "{now:?}");

    let topics = ["What if cats could talk?", "Điều gì xảy ra nếu Mặt Trăng biến mất?", "What if sleep were optional?"];
    let batch = post(
        &server,
        "/api/batch-generate",
        Some(&token),
        json!({"topics": topics, "options": {"promptType": "humor"}}),
    )
    .await;
    assert_eq!(batch.status, 202, "{batch:?}");
    assert!(batch.data()["batchId"].is_string());
    let jobs = batch.data()["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 3);
    let mut ids = Vec::new();
    for (job, topic) in jobs.iter().zip(topics) {
        assert_eq!(job["topic"], topic);
        let done = finished(&server, &token, job["jobId"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["result"]["scenario"]["topic"], topic);
        assert_eq!(done["result"]["scenario"]["promptType"], "humor");
        ids.push(done["result"]["scenarioId"].as_str().unwrap().to_string());
    }
    assert_eq!(done_language(&server, &token, &ids[1]).await, "vi", "the language is detected per topic");
    // Five saved scenarios: async, long, three batch ones (the anonymous one is not saved).
    assert_eq!(scenarios_of(&server, &user_id).await, 5);

    for (body, why) in [
        (json!({"topics": []}), "no topic"),
        (
            json!({"topics": ["What if one?", "What if two?", "What if three?", "What if four?", "What if five?", "What if six?"]}),
            "six topics",
        ),
        (json!({"topics": ["no"]}), "a topic too short"),
        (json!({"topics": ["What if?"], "options": {"colour": "red"}}), "an unknown option"),
    ] {
        let answer = post(&server, "/api/batch-generate", Some(&token), body).await;
        assert_eq!(answer.status, 400, "{why}: {answer:?}");
    }
    assert_eq!(post(&server, "/api/batch-generate", None, json!({"topics": ["What if?"]})).await.status, 401);
}

async fn done_language(server: &TestServer, token: &str, id: &str) -> String {
    let tree = get(server, &format!("/api/scenarios/{id}/tree"), Some(token)).await;
    tree.data()["nodes"][0]["language"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn continuing_twice_builds_a_tree_only_its_owner_sees() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &offline(), GENEROUS).await;
    let (token, _) = sign_up(&server, "tree").await;
    let (other, _) = sign_up(&server, "other").await;
    let root =
        post(&server, "/api/generate", Some(&token), generate_body("What if the Library of Alexandria survived?"))
            .await;
    let root = root.data()["scenario"].clone();
    let root_id = root["id"].as_str().unwrap();
    let first_choice = root["choices"][0].clone();

    let child = post(
        &server,
        &format!("/api/scenarios/{root_id}/continue"),
        Some(&token),
        json!({"choiceId": first_choice["id"]}),
    )
    .await;
    assert_eq!(child.status, 201, "{child:?}");
    let child = child.data()["scenario"].clone();
    assert_eq!(
        (child["parentId"].as_str(), child["rootId"].as_str(), child["depth"].as_u64()),
        (Some(root_id), Some(root_id), Some(1))
    );
    let child_id = child["id"].as_str().unwrap();

    let grandchild = post(
        &server,
        &format!("/api/scenarios/{child_id}/continue"),
        Some(&token),
        json!({"customChoice": "The scrolls are copied onto every ship in the harbour"}),
    )
    .await;
    assert_eq!(grandchild.status, 201, "{grandchild:?}");
    let grandchild = grandchild.data()["scenario"].clone();
    assert_eq!(grandchild["depth"], 2);
    let grandchild_id = grandchild["id"].as_str().unwrap();

    let tree = get(&server, &format!("/api/scenarios/{grandchild_id}/tree"), Some(&token)).await;
    assert_eq!(tree.status, 200, "{tree:?}");
    assert_eq!(tree.data()["rootId"], root_id);
    assert_eq!(tree.data()["path"], json!([root_id, child_id, grandchild_id]));
    assert_eq!(tree.data()["nodes"].as_array().unwrap().len(), 3);

    // Someone else: the private tree does not exist for them.
    assert_eq!(get(&server, &format!("/api/scenarios/{child_id}/tree"), Some(&other)).await.status, 404);
    assert_eq!(get(&server, &format!("/api/scenarios/{child_id}/tree"), None).await.status, 404);
    let theirs =
        post(&server, &format!("/api/scenarios/{root_id}/continue"), Some(&other), json!({"choiceId": "a"})).await;
    assert_eq!(theirs.status, 404, "{theirs:?}");

    for (body, why) in [
        (json!({"choiceId": "zz"}), "a choice the scenario does not have"),
        (json!({"choiceId": "a", "customChoice": "Both at once"}), "both"),
        (json!({}), "neither"),
        (json!({"customChoice": "x"}), "a custom choice too short"),
    ] {
        let answer = post(&server, &format!("/api/scenarios/{root_id}/continue"), Some(&token), body).await;
        assert_eq!(answer.status, 400, "{why}: {answer:?}");
    }
    assert_eq!(
        post(&server, "/api/scenarios/not-an-id/continue", Some(&token), json!({"choiceId": "a"})).await.status,
        400
    );
    assert_eq!(
        post(&server, &format!("/api/scenarios/{root_id}/continue"), None, json!({"choiceId": "a"})).await.status,
        401
    );
}

#[tokio::test]
async fn regenerate_makes_a_new_version_linked_to_the_previous_one() {
    let fake = FakeModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &fake.env("anthropic"), GENEROUS).await;
    let (token, user_id) = sign_up(&server, "versions").await;
    let (other, _) = sign_up(&server, "stranger").await;
    let topic = "What if Earth had two suns?";
    let v1 = post(&server, "/api/generate", Some(&token), generate_body(topic)).await.data()["scenario"].clone();
    let body = |previous: &Value| json!({"topic": topic, "previousScenarioId": previous["id"], "options": {"promptType": "scientific"}});
    let v2 = post(&server, "/api/regenerate", Some(&token), body(&v1)).await;
    assert_eq!(v2.status, 200, "{v2:?}");
    let v2 = v2.data()["scenario"].clone();
    assert_eq!(v2["versionOf"], v1["id"]);
    assert_ne!(v2["id"], v1["id"]);
    let v3 = post(&server, "/api/regenerate", Some(&token), body(&v2)).await.data()["scenario"].clone();
    assert_eq!(v3["versionOf"], v2["id"]);
    assert_eq!(fake.calls("anthropic"), 3, "a regeneration is always a fresh model call");
    assert_eq!(scenarios_of(&server, &user_id).await, 3);

    assert_eq!(post(&server, "/api/regenerate", Some(&other), body(&v1)).await.status, 404);
    assert_eq!(post(&server, "/api/regenerate", None, body(&v1)).await.status, 401);
    let fresh = post(&server, "/api/regenerate", None, json!({"topic": topic})).await;
    assert_eq!(fresh.status, 200, "{fresh:?}");
    let bad =
        post(&server, "/api/regenerate", Some(&token), json!({"topic": topic, "previousScenarioId": "../x"})).await;
    assert_eq!(bad.status, 400, "{bad:?}");
}

#[tokio::test]
async fn a_retried_request_with_its_idempotency_key_gets_the_first_result_and_one_model_call() {
    let fake = FakeModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &fake.env("gemini"), GENEROUS).await;
    let (token, user_id) = sign_up(&server, "idem").await;
    let body = json!({"topic": "What if pigeons unionised?", "options": {"forceNew": true}});
    let first =
        send_with(&server, Method::POST, "/api/generate", Some(&token), Some(body.clone()), Some("key-1")).await;
    let again =
        send_with(&server, Method::POST, "/api/generate", Some(&token), Some(body.clone()), Some("key-1")).await;
    assert_eq!((first.status, again.status), (200, 200), "{first:?} {again:?}");
    assert!(first.header("idempotent-replayed").is_none() && again.header("idempotent-replayed") == Some("true"));
    assert_eq!(first.data()["scenario"]["id"], again.data()["scenario"]["id"]);
    assert_eq!(fake.calls("gemini"), 1);
    assert_eq!(scenarios_of(&server, &user_id).await, 1);
    // Another body under the same key is a client bug.
    let other = json!({"topic": "What if pigeons went on strike?"});
    let reused = send_with(&server, Method::POST, "/api/generate", Some(&token), Some(other), Some("key-1")).await;
    assert_eq!(reused.status, 409, "{reused:?}");

    let batch = json!({"topics": ["What if socks had feelings?", "What if meetings were sung?"]});
    let first =
        send_with(&server, Method::POST, "/api/batch-generate", Some(&token), Some(batch.clone()), Some("b-1")).await;
    let again = send_with(&server, Method::POST, "/api/batch-generate", Some(&token), Some(batch), Some("b-1")).await;
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(first.data()["batchId"], again.data()["batchId"]);
    for job in first.data()["jobs"].as_array().unwrap() {
        finished(&server, &token, job["jobId"].as_str().unwrap()).await;
    }
    assert_eq!(scenarios_of(&server, &user_id).await, 3, "one batch, not two");
}

#[tokio::test]
async fn anonymous_and_signed_in_callers_have_their_own_generation_limits() {
    let dir = tempfile::tempdir().unwrap();
    let limits = "auth=1000/15m,general=10000/15m,generate.anonymous=2/1h,generate.signed-in=4/1h";
    let server = server_in(dir.path(), &offline(), limits).await;
    let (token, _) = sign_up(&server, "limits").await;
    for i in 0..2 {
        let ok = post(&server, "/api/generate", None, generate_body(&format!("What if anonymity {i}?"))).await;
        assert_eq!(ok.status, 200, "{ok:?}");
    }
    let limited = post(&server, "/api/generate", None, generate_body("What if anonymity 3?")).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());
    // The same address, signed in: a limit of its own.
    for i in 0..4 {
        let ok = post(&server, "/api/generate", Some(&token), generate_body(&format!("What if membership {i}?"))).await;
        assert_eq!(ok.status, 200, "{i}: {ok:?}");
    }
    assert_eq!(post(&server, "/api/generate", Some(&token), generate_body("What if membership 5?")).await.status, 429);
    // Reading is not generating.
    assert_eq!(get(&server, "/api/generation/providers", None).await.status, 200);
}

#[tokio::test]
async fn a_provider_outage_falls_through_to_the_next_and_its_breaker_opens() {
    let fake = FakeModel::start().await;
    fake.set_mode("openai", Mode::Down);
    fake.set_mode("gemini", Mode::RateLimited);
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &fake.env("openai,gemini,anthropic"), GENEROUS).await;
    let answer = post(&server, "/api/generate", None, generate_body("What if the tides stopped?")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.data()["scenario"]["provider"], "anthropic");
    assert_eq!((fake.calls("openai"), fake.calls("gemini"), fake.calls("anthropic")), (1, 1, 1));

    let providers = get(&server, "/api/generation/providers", None).await;
    assert_eq!(
        providers.data()["providers"],
        json!([
            {"name": "openai", "state": "open", "healthy": false},
            {"name": "gemini", "state": "open", "healthy": false},
            {"name": "anthropic", "state": "closed", "healthy": true}
        ])
    );
    // Open breakers are skipped: no more calls to the failing providers.
    let again = post(&server, "/api/generate", None, generate_body("What if the tides doubled?")).await;
    assert_eq!(again.data()["scenario"]["provider"], "anthropic");
    assert_eq!((fake.calls("openai"), fake.calls("gemini")), (1, 1));

    // Nothing left: 503 with the code, never internal detail.
    fake.set_mode("anthropic", Mode::Down);
    let down = post(&server, "/api/generate", None, generate_body("What if the tides froze?")).await;
    assert_eq!(down.status, 503, "{down:?}");
    assert_eq!(down.code(), "PROVIDERS_UNAVAILABLE");
    assert!(!down.body.to_string().contains("127.0.0.1"), "{down:?}");

    // The offline provider at the end of the chain always answers.
    use_engine(&server, &fake.env("bedrock,offline"));
    fake.set_mode("bedrock", Mode::Down);
    let offline = post(&server, "/api/generate", None, generate_body("What if the tides sang?")).await;
    assert_eq!(offline.data()["scenario"]["provider"], "offline");
}

#[tokio::test]
async fn a_worker_that_crashes_mid_job_is_recovered_without_a_second_scenario() {
    let fake = FakeModel::start().await;
    fake.set_mode("openai", Mode::Slow(Duration::from_secs(120)));
    let dir = tempfile::tempdir().unwrap();
    let env = fake.env("openai");
    let server = server_in(dir.path(), &env, GENEROUS).await;
    let (token, user_id) = sign_up(&server, "crash").await;
    let started = post(
        &server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if the lighthouse lit itself?", "options": {"async": true, "forceNew": true}}),
    )
    .await;
    assert_eq!(started.status, 202, "{started:?}");
    let job_id = started.data()["jobId"].as_str().unwrap().to_string();
    wait_for_status(&server, &token, &job_id, "running").await;
    let started = Instant::now();
    while fake.calls("openai") == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the model is never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.crash().await;
    fake.set_mode("openai", Mode::Ok);
    // The same data folder; the lease (2 s) of the crashed worker runs out.
    let server = server_in(dir.path(), &env, GENEROUS).await;
    let job = finished(&server, &token, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(fake.calls("openai"), 2, "the job ran again");
    assert_eq!(scenarios_of(&server, &user_id).await, 1, "one scenario, not two");

    // A redelivery of the finished job changes nothing.
    let message = whatif_shared::jobs::JobMessage::new("generation", &job_id);
    server.ctx.queue.send(&message.to_body(), Duration::ZERO).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.calls("openai"), 2);
    assert_eq!(scenarios_of(&server, &user_id).await, 1);
    assert_eq!(finished(&server, &token, &job_id).await["result"], job["result"]);
}

#[tokio::test]
async fn cancel_stops_a_running_job_and_keeps_nothing_half_done() {
    let fake = FakeModel::start().await;
    fake.set_mode("anthropic", Mode::Slow(Duration::from_secs(120)));
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &fake.env("anthropic"), GENEROUS).await;
    let (token, user_id) = sign_up(&server, "cancel").await;
    let (other, _) = sign_up(&server, "bystander").await;
    let started = post(
        &server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if the fog never lifted?", "options": {"async": true}}),
    )
    .await;
    let job_id = started.data()["jobId"].as_str().unwrap().to_string();
    wait_for_status(&server, &token, &job_id, "running").await;

    let path = format!("/api/jobs/{job_id}/cancel");
    assert_eq!(post(&server, &path, Some(&other), json!({})).await.status, 404, "only the owner");
    let cancelled = post(&server, &path, Some(&token), json!({})).await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.data()["status"], "cancelled");
    // The worker stops its model call: the job is free for the next one at once.
    fake.set_mode("anthropic", Mode::Ok);
    let next = post(
        &server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if the fog lifted?", "options": {"async": true}}),
    )
    .await;
    let next_job = finished(&server, &token, next.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(next_job["status"], "succeeded");
    let job = finished(&server, &token, &job_id).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(job.get("result").is_none(), "{job}");
    assert_eq!(scenarios_of(&server, &user_id).await, 1, "only the second job saved one");

    let again = post(&server, &path, Some(&token), json!({})).await;
    assert_eq!((again.status, again.code()), (409, "JOB_FINISHED"), "{again:?}");
    let done =
        post(&server, &format!("/api/jobs/{}/cancel", next_job["id"].as_str().unwrap()), Some(&token), json!({})).await;
    assert_eq!(done.status, 409, "a finished job stays finished: {done:?}");
    assert_eq!(post(&server, "/api/jobs/nope/cancel", Some(&token), json!({})).await.status, 400);
}

#[tokio::test]
async fn blocked_topics_and_bad_input_are_refused_before_any_model_call() {
    let fake = FakeModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = fake.env("openai");
    env.insert("WHATIF_BLOCKED_TERMS".into(), "zorblax".into());
    let server = server_in(dir.path(), &env, GENEROUS).await;
    let (token, user_id) = sign_up(&server, "blocked").await;

    for (path, body) in [
        ("/api/generate", json!({"topic": "What if the Zorblax ruled?"})),
        ("/api/generate", json!({"topic": "What if the ZÖRBLAX ruled?", "options": {"async": true}})),
        ("/api/regenerate", json!({"topic": "What if zorblax returned?"})),
        ("/api/batch-generate", json!({"topics": ["What if cats could talk?", "What if zorblax won?"]})),
    ] {
        let answer = post(&server, path, Some(&token), body).await;
        assert_eq!((answer.status, answer.code()), (422, "CONTENT_BLOCKED"), "{path}: {answer:?}");
    }
    let root = post(&server, "/api/generate", Some(&token), generate_body("What if cats could talk?")).await;
    let root_id = root.data()["scenario"]["id"].as_str().unwrap().to_string();
    let custom = json!({"customChoice": "The zorblax arrive"});
    let answer = post(&server, &format!("/api/scenarios/{root_id}/continue"), Some(&token), custom).await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(fake.calls("openai"), 1, "only the clean topic reached the model");
    assert_eq!(scenarios_of(&server, &user_id).await, 1, "no job was queued for a blocked batch");

    for (body, field) in [
        (json!({"topic": "  hi  "}), "topic"),
        (json!({"topic": "x".repeat(501)}), "topic"),
        (json!({"topic": "What if?", "options": {"temperature": 3}}), "options.temperature"),
        (json!({"topic": "What if?", "options": {"maxTokens": 99}}), "options.maxTokens"),
        (json!({"topic": "What if?", "options": {"promptType": "epic"}}), "options.promptType"),
        (json!({"topic": "What if?", "options": {"language": "klingon"}}), "options.language"),
        (json!({"topic": "What if?", "colour": "red"}), "colour"),
    ] {
        let answer = post(&server, "/api/generate", None, body).await;
        assert_eq!(answer.status, 400, "{field}: {answer:?}");
        assert!(answer.body.to_string().contains(field), "{field}: {answer:?}");
    }
}

#[tokio::test]
async fn random_gives_a_curated_topic_and_its_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path(), &offline(), GENEROUS).await;
    let answer = get(&server, "/api/random?promptType=humor&language=vi", None).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.data()["promptType"], "humor");
    assert_eq!(answer.data()["language"], "vi");
    let topic = answer.data()["topic"].as_str().unwrap();
    assert!(topic.starts_with("Điều gì xảy ra nếu"), "{topic}");
    assert_eq!(answer.data()["scenario"]["topic"], topic);
    assert_eq!(answer.data()["scenario"]["language"], "vi");

    let bare = get(&server, "/api/random?generate=false", None).await;
    assert_eq!(bare.status, 200);
    assert!(bare.data()["topic"].is_string());
    assert!(bare.data().get("scenario").is_none());
    assert_eq!(bare.data()["language"], "en", "English without a language or Accept-Language");
    let browser = [("accept-language", "vi-VN,vi;q=0.9,en;q=0.8")];
    let localized = api::send(&server, Method::GET, "/api/random?generate=false", None, None, &browser).await;
    assert_eq!(localized.data()["language"], "vi", "{localized:?}");
    let asked = api::send(&server, Method::GET, "/api/random?generate=false&language=en", None, None, &browser).await;
    assert_eq!(asked.data()["language"], "en", "the parameter wins over the header");
    for bad in ["promptType=epic", "language=xx", "generate=maybe", "colour=red"] {
        assert_eq!(get(&server, &format!("/api/random?{bad}"), None).await.status, 400, "{bad}");
    }
}

/// Every topic of a batch counts against the caller's generation limit: a
/// batch that does not fit in what is left is refused whole, before anything
/// is queued, and batches never make more scenarios than the limit allows.
#[tokio::test]
async fn every_topic_of_a_batch_counts_against_the_generation_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limits = "auth=1000/15m,general=10000/15m,generate.signed-in=7/1h";
    let server = server_in(dir.path(), &offline(), limits).await;
    let (token, user_id) = sign_up(&server, "batchlimit").await;
    let topics = |tag: &str, n: usize| json!({"topics": (0..n).map(|i| format!("What if {tag} number {i}?")).collect::<Vec<_>>()});

    let first = post(&server, "/api/batch-generate", Some(&token), topics("lanterns", 5)).await;
    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"), "five of seven are used");
    for job in first.data()["jobs"].as_array().unwrap() {
        finished(&server, &token, job["jobId"].as_str().unwrap()).await;
    }

    // Three topics do not fit in the two left: refused whole, nothing queued.
    let refused = post(&server, "/api/batch-generate", Some(&token), topics("kettles", 3)).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(refused.code(), "RATE_LIMITED");
    assert!(refused.header("retry-after").is_some());

    // A batch larger than the whole limit never fits.
    let huge = post(&server, "/api/batch-generate", Some(&token), topics("comets", 5)).await;
    assert_eq!(huge.status, 429, "{huge:?}");

    // Nothing was queued for the refused batches (the offline provider would have answered by now).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(scenarios_of(&server, &user_id).await, 5);
    let more = post(&server, "/api/batch-generate", Some(&token), topics("violins", 1)).await;
    assert_eq!(more.status, 202, "{more:?}");
    for job in more.data()["jobs"].as_array().unwrap() {
        finished(&server, &token, job["jobId"].as_str().unwrap()).await;
    }
    // Whatever is asked for from here on, the total never passes the limit.
    for tag in ["owls", "moths", "foxes"] {
        let _ = post(&server, "/api/batch-generate", Some(&token), topics(tag, 2)).await;
    }
    let _ = post(&server, "/api/generate", Some(&token), generate_body("What if the last one?")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut made = 0;
    for _ in 0..60 {
        made = scenarios_of(&server, &user_id).await;
        if made >= 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(made <= 7, "{made} scenarios against a limit of 7");
}
