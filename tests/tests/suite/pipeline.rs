//! The shared pipeline, driven with API Gateway events as Lambda receives
//! them: bad input, auth levels, rate limits, idempotency, panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use whatif_shared::auth::AuthLevel;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::handler;
use whatif_shared::pipeline::dispatch;
use whatif_shared::ratelimit::{RateClass, RateLimits};
use whatif_shared::routes::{Route, RouteDoc};
use whatif_shared::{ApiRequest, ApiResult, Reply};
use whatif_tests::{body_json, gateway_event, lambda_request};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    text: String,
}

static CALLS: AtomicU32 = AtomicU32::new(0);

async fn echo(_ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: Echo = req.json()?;
    let n = CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(Reply::created(json!({"text": body.text, "call": n})))
}

async fn boom(_ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    if req.path.ends_with("panic") {
        panic!("secret internal detail");
    }
    Ok(Reply::ok(json!({})))
}

async fn whoami(_ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    Ok(Reply::ok(json!({"signedIn": req.principal.is_some()})))
}

macro_rules! test_route {
    ($function:literal, $method:expr, $path:literal, $handler:expr, $auth:expr, $rate:expr, $idempotent:expr) => {
        Route {
            function: $function,
            method: $method,
            path: $path,
            auth: $auth,
            rate: $rate,
            idempotent: $idempotent,
            memory_mb: 128,
            timeout_secs: 10,
            max_body: Some(64),
            access: &[],
            handler: $handler,
            doc: RouteDoc::new("test", "test"),
        }
    };
}

static ECHO: Route = test_route!("echo", Method::POST, "/echo", handler!(echo), AuthLevel::None, None, true);
static LIMITED: Route =
    test_route!("limited", Method::GET, "/limited", handler!(boom), AuthLevel::None, Some(RateClass::Generate), false);
static LEFT_DONE: AtomicU32 = AtomicU32::new(0);

/// A read that leaves a change for after its answer (as a view's count is).
async fn leaves(_ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    whatif_shared::pipeline::after_answer(async {
        LEFT_DONE.fetch_add(1, Ordering::SeqCst);
    })
    .await;
    Ok(Reply::ok(json!({})))
}

static LEAVES: Route =
    test_route!("leaves", Method::GET, "/leaves", handler!(leaves), AuthLevel::None, Some(RateClass::General), false);
static READS: Route =
    test_route!("reads", Method::GET, "/reads", handler!(boom), AuthLevel::None, Some(RateClass::General), false);
static PANICS: Route = test_route!("panics", Method::GET, "/panic", handler!(boom), AuthLevel::None, None, false);
static USER_ONLY: Route = test_route!("me", Method::GET, "/me", handler!(whoami), AuthLevel::User, None, false);
static OPTIONAL: Route =
    test_route!("maybe", Method::GET, "/maybe", handler!(whoami), AuthLevel::Optional, None, false);

async fn context(dir: &std::path::Path) -> Arc<AppContext> {
    let mut config = Config::embedded(dir.to_path_buf());
    config.rate_limits = RateLimits::parse("generate.anonymous=3/1h, general.anonymous=2/1h").unwrap();
    AppContext::connect(config).await.unwrap()
}

fn post(body: &str, content_type: &str, extra: Value) -> lambda_http::Request {
    let mut headers = json!({"content-type": content_type});
    headers.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    lambda_request(gateway_event("POST", "/echo", "/echo", Some(body), headers))
}

#[tokio::test]
async fn bad_bodies_get_clear_4xx_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let cases = [
        (r#"{"text": "#, "application/json", 400, "INVALID_JSON"),
        (r#"{"text": "hi", "role": "admin"}"#, "application/json", 400, "VALIDATION_ERROR"),
        (r#"{"text": 5}"#, "application/json", 400, "VALIDATION_ERROR"),
        (r#"{"text": "hi"}"#, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("", "application/json", 400, "INVALID_JSON"),
        (&format!(r#"{{"text": "{}"}}"#, "x".repeat(100)), "application/json", 413, "PAYLOAD_TOO_LARGE"),
    ];
    for (body, content_type, status, code) in cases {
        let response = dispatch(&ctx, &ECHO, post(body, content_type, json!({}))).await;
        let json = body_json(&response);
        assert_eq!(response.status().as_u16(), status, "{body:?} as {content_type}: {json}");
        assert_eq!(json["code"], code, "{body:?}");
        assert_eq!(json["success"], false);
        assert!(json["requestId"].is_string());
    }
    let response =
        dispatch(&ctx, &ECHO, post(r#"{"text": "hi", "role": "admin"}"#, "application/json", json!({}))).await;
    assert!(body_json(&response)["message"].as_str().unwrap().contains("role"), "names the unknown field");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_without_internal_text() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let response =
        dispatch(&ctx, &PANICS, lambda_request(gateway_event("GET", "/panic", "/panic", None, json!({})))).await;
    assert_eq!(response.status(), 500);
    let json = body_json(&response);
    assert_eq!(json["code"], "INTERNAL_ERROR");
    assert!(!json.to_string().contains("secret internal detail"));
}

#[tokio::test]
async fn rate_limits_answer_429_with_headers() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let request = || lambda_request(gateway_event("GET", "/limited", "/limited", None, json!({})));
    for remaining in [2, 1, 0] {
        let response = dispatch(&ctx, &LIMITED, request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining.to_string().as_str());
        assert!(response.headers().contains_key("x-ratelimit-reset"));
    }
    let response = dispatch(&ctx, &LIMITED, request()).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after));
    let json = body_json(&response);
    assert_eq!(json["code"], "RATE_LIMITED");
    assert_eq!(json["retryAfter"], retry_after);

    // Another client (IP) has its own window.
    assert_eq!(dispatch(&ctx, &LIMITED, from_another_client("/limited")).await.status(), 200);
}

/// A `GET` of `path` from another address than the other requests' (another window).
fn from_another_client(path: &str) -> lambda_http::Request {
    let mut event = gateway_event("GET", path, path, None, json!({}));
    event["requestContext"]["http"]["sourceIp"] = json!("198.51.100.99");
    lambda_request(event)
}

/// A read waits for no write: it is checked against the reads before it and
/// counted after its answer. In Lambda the count goes out once the runtime
/// has sent the answer, before it asks for the next event.
#[tokio::test]
async fn a_read_is_counted_after_its_answer_and_before_the_next_event() {
    use lambda_http::{Service, service_fn};
    use whatif_app::lambda::ThenAfter;
    use whatif_shared::pipeline::respond;

    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let request = || lambda_request(gateway_event("GET", "/reads", "/reads", None, json!({})));
    let remaining = |response: &http::Response<lambda_http::Body>| response.headers()["x-ratelimit-remaining"].clone();

    let (first, after) = respond(&ctx, &READS, request()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(remaining(&first), "1", "the answer counts itself");
    let after = after.expect("a read let through leaves its count for after the answer");
    // Answered, not counted yet: a read arriving now is checked against none.
    let (meanwhile, its_count) = respond(&ctx, &READS, request()).await;
    assert_eq!((meanwhile.status().as_u16(), remaining(&meanwhile)), (200, "1".parse().unwrap()));

    // The runtime's service sends the answer; the count follows it.
    let sent = Arc::new(AtomicU32::new(0));
    let pending = Arc::new(std::sync::Mutex::new(Some(after)));
    let answer = {
        let sent = sent.clone();
        service_fn(move |()| {
            let sent = sent.clone();
            async move {
                sent.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::convert::Infallible>(())
            }
        })
    };
    let mut runtime = ThenAfter { inner: answer, pending: pending.clone() };
    runtime.call(()).await.unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert!(pending.lock().unwrap().is_none(), "the count ran");
    its_count.expect("counted too").run().await;

    // Both counted: the window of two is full.
    let third = dispatch(&ctx, &READS, request()).await;
    assert_eq!(third.status(), 429);
    assert_eq!(body_json(&third)["code"], "RATE_LIMITED");
    // A refused read leaves nothing to count, and another client has its own window.
    let (refused, nothing) = respond(&ctx, &READS, request()).await;
    assert_eq!(refused.status(), 429);
    assert!(nothing.is_none());
    assert_eq!(dispatch(&ctx, &READS, from_another_client("/reads")).await.status(), 200);
}

/// What a read's handler leaves for after its answer runs after it, and
/// only for a request its checks let through.
#[tokio::test]
async fn what_a_read_leaves_runs_after_its_answer_and_never_for_a_refused_one() {
    use whatif_shared::pipeline::respond;

    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let request = || lambda_request(gateway_event("GET", "/leaves", "/leaves", None, json!({})));
    let (answer, after) = respond(&ctx, &LEAVES, request()).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(LEFT_DONE.load(Ordering::SeqCst), 0, "not before the answer");
    after.expect("left work").run().await;
    assert_eq!(LEFT_DONE.load(Ordering::SeqCst), 1);
    // The local server's way: done before it answers.
    assert_eq!(dispatch(&ctx, &LEAVES, request()).await.status(), 200);
    assert_eq!(LEFT_DONE.load(Ordering::SeqCst), 2);
    // The window (two reads) is full: refused, and what it left is dropped.
    let (refused, after) = respond(&ctx, &LEAVES, request()).await;
    assert_eq!(refused.status(), 429);
    assert!(after.is_none());
    assert_eq!(LEFT_DONE.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let key = json!({"idempotency-key": "5f0c2a9e-retry-1"});
    let first = dispatch(&ctx, &ECHO, post(r#"{"text":"once"}"#, "application/json", key.clone())).await;
    assert_eq!(first.status(), 201);
    let replay = dispatch(&ctx, &ECHO, post(r#"{"text":"once"}"#, "application/json", key.clone())).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(body_json(&replay)["data"]["call"], body_json(&first)["data"]["call"], "the handler ran once");
    assert_eq!(replay.headers()["idempotent-replayed"], "true");

    let other = dispatch(&ctx, &ECHO, post(r#"{"text":"twice"}"#, "application/json", key)).await;
    assert_eq!(other.status(), 409);
    assert_eq!(body_json(&other)["code"], "IDEMPOTENCY_KEY_REUSED");

    let bad = dispatch(&ctx, &ECHO, post(r#"{"text":"x"}"#, "application/json", json!({"idempotency-key": ""}))).await;
    assert_eq!(bad.status(), 400);
}

/// A refused request (here a bad body) is not kept under its key: the
/// corrected request with the same key runs, and is what replays.
#[tokio::test]
async fn an_error_answer_does_not_use_up_the_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let key = json!({"idempotency-key": "retry-after-a-400"});
    let bad = dispatch(&ctx, &ECHO, post(r#"{"text": 5}"#, "application/json", key.clone())).await;
    assert_eq!(bad.status(), 400);
    assert!(!bad.headers().contains_key("idempotent-replayed"));
    let again = dispatch(&ctx, &ECHO, post(r#"{"text": 5}"#, "application/json", key.clone())).await;
    assert_eq!(again.status(), 400);
    assert!(!again.headers().contains_key("idempotent-replayed"), "an error is answered afresh, not replayed");

    let fixed = dispatch(&ctx, &ECHO, post(r#"{"text":"fixed"}"#, "application/json", key.clone())).await;
    assert_eq!(fixed.status(), 201, "{}", body_json(&fixed));
    assert!(!fixed.headers().contains_key("idempotent-replayed"));
    let replay = dispatch(&ctx, &ECHO, post(r#"{"text":"fixed"}"#, "application/json", key)).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(body_json(&replay)["data"]["call"], body_json(&fixed)["data"]["call"], "the handler ran once");
}

/// Bodies that are not objects, or whose fields are of the wrong kind, get a
/// 400 that names the field in plain words, without Rust's type names.
#[tokio::test]
async fn bad_bodies_are_explained_without_rust_type_names() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let rust = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "f32", "f64"];
    let cases = [
        (r#"["text"]"#, "body", "The body must be a JSON object"),
        (r#""text""#, "body", "The body must be a JSON object"),
        (r#"{"text": 5}"#, "text", "must be a string"),
        (r#"{"text": ["a"]}"#, "text", "must be a string"),
        (r#"{"text": {}}"#, "text", "must be a string"),
        (r#"{}"#, "text", "is required"),
        (r#"{"text": "a", "x": 1}"#, "x", "is not a known field"),
    ];
    for (body, field, words) in cases {
        let response = dispatch(&ctx, &ECHO, post(body, "application/json", json!({}))).await;
        let json = body_json(&response);
        assert_eq!(response.status(), 400, "{body}: {json}");
        assert_eq!(json["code"], "VALIDATION_ERROR", "{body}: {json}");
        assert_eq!(json["errors"][0]["field"], field, "{body}: {json}");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {json}");
        let words_of = |s: &str| s.split(|c: char| !c.is_ascii_alphanumeric()).map(str::to_string).collect::<Vec<_>>();
        let all = format!("{message} {}", json["errors"][0]["message"]);
        assert!(!words_of(&all).iter().any(|w| rust.contains(&w.as_str())), "{body}: {json}");
        for phrase in ["struct ", "enum ", "sequence", "map"] {
            assert!(!all.contains(phrase), "{body}: {json}");
        }
    }
}

#[tokio::test]
async fn auth_levels_are_enforced_before_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let call = |route: &'static Route, path: &'static str, auth: Option<&str>| {
        let headers = auth.map(|a| json!({"authorization": a})).unwrap_or(json!({}));
        let ctx = ctx.clone();
        async move { dispatch(&ctx, route, lambda_request(gateway_event("GET", path, path, None, headers))).await }
    };
    assert_eq!(call(&USER_ONLY, "/me", None).await.status(), 401);
    assert_eq!(call(&USER_ONLY, "/me", Some("Bearer not.a.jwt")).await.status(), 401);
    assert_eq!(call(&USER_ONLY, "/me", Some("Basic dXNlcjpwYXNz")).await.status(), 401);
    let anonymous = call(&OPTIONAL, "/maybe", None).await;
    assert_eq!(anonymous.status(), 200);
    assert_eq!(body_json(&anonymous)["data"]["signedIn"], false);
    assert_eq!(call(&OPTIONAL, "/maybe", Some("Bearer garbage")).await.status(), 401, "a bad token is never ignored");
}

/// Writes one item, as a handler that saves something does.
async fn saves(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let mut item = whatif_shared::ports::table::Item::new();
    item.insert("pk".into(), json!("NOTE#1"));
    item.insert("sk".into(), json!("NOTE"));
    ctx.table.put(item, None).await?;
    Ok(Reply::created(json!({"saved": true})))
}

static SAVES_WITHOUT_GRANT: Route = Route::post("saves-without-grant", "/notes", handler!(saves))
    .auth(AuthLevel::None)
    .rate(None)
    .access(&[whatif_shared::routes::Access::TableRead]);
static SAVES_WITH_GRANT: Route = Route::post("saves-with-grant", "/notes", handler!(saves))
    .auth(AuthLevel::None)
    .rate(None)
    .access(&[whatif_shared::routes::Access::TableRead, whatif_shared::routes::Access::TableWrite]);

/// A row's access is enforced where the tests and the local server run, not
/// only by IAM in AWS: a handler that writes to the table without `TableWrite`
/// in its row fails here, and nothing is written.
#[tokio::test]
async fn a_table_write_without_table_write_in_the_row_fails_locally() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let request = || {
        lambda_request(gateway_event(
            "POST",
            "/notes",
            "/notes",
            Some("{}"),
            json!({"content-type": "application/json"}),
        ))
    };
    let key = whatif_shared::ports::table::Key::new("NOTE#1", "NOTE");
    let response = dispatch(&ctx, &SAVES_WITHOUT_GRANT, request()).await;
    assert_eq!(response.status(), 500, "{}", body_json(&response));
    assert_eq!(body_json(&response)["code"], "INTERNAL_ERROR");
    assert!(!body_json(&response).to_string().contains("TableWrite"), "the detail is logged, not sent");
    assert!(ctx.table.get(&key).await.unwrap().is_none(), "nothing was written");

    let response = dispatch(&ctx, &SAVES_WITH_GRANT, request()).await;
    assert_eq!(response.status(), 201, "{}", body_json(&response));
    assert!(ctx.table.get(&key).await.unwrap().is_some());
}
