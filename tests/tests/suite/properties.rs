//! Property tests of the parsers that take outside input, on the real types:
//! API Gateway events through the pipeline, the request bodies of real
//! routes, and the validator of a model's output. The fuzz targets in `fuzz/`
//! check the same promises with libFuzzer; docs/testing.md has both.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestRunner;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use whatif_generation::GeneratedScenario;
use whatif_generation::scenario::{CHOICES, SECTIONS, parse_model_output};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::http::names_rust_types;
use whatif_shared::pipeline::dispatch;
use whatif_shared::{ApiError, ApiRequest, Route};
use whatif_tests::{body_json, gateway_event, lambda_request};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        ".{0,16}".prop_map(Value::String),
        // Values some fields take, so that bodies get past the first field.
        prop::sample::select(vec![
            "scenario",
            "share",
            "spam",
            "other",
            "low",
            "high",
            "twitter",
            "en",
            "a@b.co",
            "Pa55word!x",
            "What if the Moon vanished?",
            "2030-01-01T00:00:00Z",
            "01J9ZQ3V7X8Y2K4M6N8P0R2S4T",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of `fields` (any values), maybe one field no body has.
fn object_of(fields: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    let known = prop::collection::vec((prop::sample::select(fields), json_value()), 0..fields.len() + 1);
    let unknown = prop::option::weighted(0.15, ("x[a-z]{0,6}", json_value()));
    (known, unknown).prop_map(|(known, unknown)| {
        let mut map: Map<String, Value> = known.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        map.extend(unknown);
        map
    })
}

/// A body as clients send it: random bytes, or an object of the body's
/// fields, whole, cut short, or with a byte changed.
fn body_of(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..48),
        4 => (object_of(fields), any::<Index>(), any::<u8>(), 0..4u8).prop_map(|(object, at, byte, how)| {
            let mut bytes = Value::Object(object).to_string().into_bytes();
            let at = at.index(bytes.len() + 1);
            match how {
                0 => bytes.truncate(at),
                1 => bytes.insert(at, byte),
                _ => {}
            }
            bytes
        }),
    ]
}

fn json_request(body: &[u8]) -> ApiRequest {
    let mut req = ApiRequest::new(Method::POST, "/x");
    req.headers.insert("content-type", HeaderValue::from_static("application/json"));
    req.body = Bytes::copy_from_slice(body);
    req
}

/// A refusal in the API's words: a 400 (a validation error names a field
/// of the type or one the body has), and no Rust type names in what the
/// client reads; a field name is the client's own text and may be anything.
fn assert_refusal(err: &ApiError, fields: &[&str], body: &[u8]) -> Result<(), TestCaseError> {
    let sent = String::from_utf8_lossy(body);
    prop_assert_eq!(err.status, StatusCode::BAD_REQUEST, "{:?}", err);
    prop_assert!(matches!(err.code, "INVALID_JSON" | "VALIDATION_ERROR"), "{:?}", err);
    if err.code == "VALIDATION_ERROR" {
        prop_assert!(!err.errors.is_empty(), "{:?}", err);
    }
    let mut message = err.message.as_str();
    for field in &err.errors {
        prop_assert!(!field.field.is_empty() && !field.field.ends_with('.'), "{:?}", err);
        let top = field.field.split(['.', '[']).next().unwrap_or_default();
        prop_assert!(top == "body" || fields.contains(&top) || sent.contains(top), "{:?}", err);
        prop_assert!(!names_rust_types(&field.message), "{:?}", err);
        message = message.strip_prefix(&format!("{}: ", field.field)).unwrap_or(message);
    }
    prop_assert!(!names_rust_types(message), "{:?}", err);
    Ok(())
}

/// `ApiRequest::json::<T>` on any body: the type (the body was an object),
/// or a refusal in the API's words.
fn check_body<T: DeserializeOwned>(body: &[u8], fields: &[&str]) -> Result<(), TestCaseError> {
    match json_request(body).json::<T>() {
        Ok(_) => prop_assert!(matches!(serde_json::from_slice::<Value>(body), Ok(Value::Object(_)))),
        Err(err) => assert_refusal(&err, fields, body)?,
    }
    Ok(())
}

const CREATE: &[&str] = &["title", "description", "password", "expiresAt", "forceNew"];
const REPORT: &[&str] =
    &["targetType", "targetId", "reason", "description", "category", "severity", "scenarioId", "shareUrl"];
const REGISTER: &[&str] = &["email", "password", "firstName", "lastName", "username"];
const GENERATE: &[&str] = &["topic", "options"];
const OPTIONS: &[&str] = &["promptType", "length", "language", "tone", "temperature", "maxTokens", "forceNew", "async"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_share_body_is_taken_or_refused_in_the_apis_words(body in body_of(CREATE)) {
        check_body::<whatif_sharing::create::CreateBody>(&body, CREATE)?;
    }

    #[test]
    fn a_report_body_is_taken_or_refused_in_the_apis_words(body in body_of(REPORT)) {
        check_body::<whatif_sharing::report::ReportBody>(&body, REPORT)?;
    }

    #[test]
    fn a_register_body_is_taken_or_refused_in_the_apis_words(body in body_of(REGISTER)) {
        check_body::<whatif_auth::register::RegisterBody>(&body, REGISTER)?;
    }

    #[test]
    fn a_generate_body_is_taken_or_refused_in_the_apis_words(
        body in body_of(GENERATE),
        options in object_of(OPTIONS),
        topic in ".{0,12}",
    ) {
        check_body::<whatif_generation::routes::generate::GenerateBody>(&body, GENERATE)?;
        // The options object, where most of the choices are.
        let body = json!({"topic": format!("What if {topic}"), "options": options}).to_string();
        check_body::<whatif_generation::routes::generate::GenerateBody>(body.as_bytes(), GENERATE)?;
    }
}

// ---- the model's output --------------------------------------------------------

/// A scenario as a model should write it: 3–5 sections, 2–4 choices with unique ids.
fn model_json() -> impl Strategy<Value = Value> {
    let line = "[A-Za-z][A-Za-z ,.'!?-]{0,40}";
    let section = (line, "[A-Za-z][A-Za-z ,.\n-]{0,80}").prop_map(|(h, b)| json!({"heading": h, "body": b}));
    let sections = prop::collection::vec(section, SECTIONS);
    let choices = prop::collection::btree_map("[a-z0-9_-]{1,8}", line, CHOICES)
        .prop_map(|m| m.into_iter().map(|(id, text)| json!({"id": id, "text": text})).collect::<Vec<_>>());
    (line, line, sections, choices).prop_map(|(title, summary, sections, choices)| {
        json!({"title": title, "summary": summary, "sections": sections, "choices": choices})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_from_a_model_is_a_scenario_or_says_what_is_wrong(text in prop_oneof![".{0,200}", "[{}\\[\\]\":, a-z0-9]{0,120}"]) {
        match parse_model_output(&text) {
            Ok(scenario) => prop_assert_eq!(parse_model_output(&scenario.to_model_json().to_string()), Ok(scenario)),
            Err(err) => prop_assert!(!err.problems.is_empty() && err.problems.iter().all(|p| !p.is_empty())),
        }
    }

    #[test]
    fn a_valid_answer_parses_whole_fenced_or_in_prose_to_the_same_scenario(value in model_json(), prose in "[A-Za-z ]{0,20}") {
        let text = value.to_string();
        let scenario = parse_model_output(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(scenario.sections().len(), value["sections"].as_array().unwrap().len());
        prop_assert_eq!(scenario.choices().len(), value["choices"].as_array().unwrap().len());
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        for wrapped in [format!("```json\n{pretty}\n```"), format!("{prose}: {text} {prose}"), format!("\u{feff}  {text}\n")] {
            let parsed = parse_model_output(&wrapped);
            prop_assert_eq!(parsed.as_ref(), Ok(&scenario), "{}", wrapped);
        }
        // What is stored reads back to the same scenario.
        let stored: GeneratedScenario = serde_json::from_value(serde_json::to_value(&scenario).unwrap()).unwrap();
        prop_assert_eq!(&stored, &scenario);
        prop_assert_eq!(parse_model_output(&scenario.to_model_json().to_string()), Ok(scenario));
    }

    #[test]
    fn an_answer_cut_short_says_it_is_cut_off(value in model_json(), at in any::<Index>()) {
        let text = value.to_string();
        let end = at.index(text.len() - 1) + 1;
        prop_assume!(text.is_char_boundary(end));
        let cut = &text[..end];
        let err = parse_model_output(cut).unwrap_err();
        prop_assert!(err.problems[0].contains("cut off"), "{}: {:?}", cut, err);
    }
}

// ---- API Gateway events through the pipeline -------------------------------------

/// The route parameters of `route`'s path (`{shareUrl}`).
fn path_params(route: &Route) -> Vec<&'static str> {
    route.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
}

/// A header value as a client may send it.
fn header_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|v| v.trim().to_string())
}

#[derive(Debug, Clone)]
struct Event {
    route: Index,
    method: &'static str,
    path: String,
    query: String,
    params: Vec<String>,
    headers: BTreeMap<String, String>,
    body: Option<(bool, String)>,
}

fn events() -> impl Strategy<Value = Event> {
    let known_headers = prop::collection::btree_map(
        prop::sample::select(vec![
            "content-type",
            "authorization",
            "x-request-id",
            "idempotency-key",
            "x-share-password",
            "origin",
            "if-none-match",
            "accept-language",
            "cookie",
            "x-forwarded-proto",
        ]),
        prop_oneof![
            header_value(),
            prop::sample::select(vec![
                "application/json",
                "Bearer abc.def.ghi",
                "Basic eA==",
                "https://app.example.com"
            ])
            .prop_map(str::to_string),
        ],
        0..5,
    );
    let other_headers = prop::collection::btree_map("[a-z][a-z0-9-]{0,12}", header_value(), 0..3);
    let body = prop::option::of(prop_oneof![
        ".{0,120}".prop_map(|b| (false, b)),
        json_value().prop_map(|v| (false, v.to_string())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| (true, STANDARD.encode(b))),
    ]);
    (
        any::<Index>(),
        prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
        "/[!-~]{0,30}",
        "[!-~]{0,30}",
        prop::collection::vec(prop_oneof!["[!-~]{0,30}", "[A-Za-z0-9_-]{22}", "[0-9A-HJKMNP-TV-Z]{26}"], 3),
        (known_headers, other_headers).prop_map(|(known, other)| {
            let mut all: BTreeMap<String, String> = known.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            all.extend(other);
            all
        }),
        body,
    )
        .prop_map(|(route, method, path, query, params, headers, body)| Event {
            route,
            method,
            path,
            query,
            params,
            headers,
            body,
        })
}

/// The event of `e` for `route`, as API Gateway sends it.
fn gateway(route: &Route, e: &Event) -> Value {
    let headers = Value::Object(e.headers.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect());
    let mut event = gateway_event(e.method, route.path, &e.path, None, headers);
    event["rawQueryString"] = Value::from(e.query.as_str());
    event["requestContext"]["http"]["method"] = Value::from(e.method);
    event["routeKey"] = Value::from(route.route_key());
    event["requestContext"]["routeKey"] = Value::from(route.route_key());
    let params: Map<String, Value> =
        path_params(route).into_iter().zip(&e.params).map(|(k, v)| (k.to_string(), Value::from(v.as_str()))).collect();
    if !params.is_empty() {
        event["pathParameters"] = Value::Object(params);
    }
    if let Some((base64, body)) = &e.body {
        event["body"] = Value::from(body.as_str());
        event["isBase64Encoded"] = Value::Bool(*base64);
    }
    event
}

/// A context on the embedded backend, its runtime, and every route.
fn embedded() -> (tokio::runtime::Runtime, std::sync::Arc<AppContext>, tempfile::TempDir, Vec<&'static Route>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = runtime.block_on(AppContext::connect(Config::embedded(dir.path().to_path_buf()))).unwrap();
    (runtime, ctx, dir, whatif_local::routes())
}

#[test]
fn any_event_for_a_route_is_answered_with_a_request_id_and_never_a_5xx() {
    let (runtime, ctx, _dir, routes) = embedded();
    let mut runner = TestRunner::new(ProptestConfig::with_cases(160));
    let result = runner.run(&events(), |e| {
        let route = routes[e.route.index(routes.len())];
        let event = gateway(route, &e);
        let response = runtime.block_on(dispatch(&ctx, route, lambda_request(event.clone())));
        let status = response.status();
        let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        prop_assert!(!id.is_empty(), "{} answered without a request id", route.function);
        prop_assert!(
            !status.is_server_error(),
            "{}: {} {} for {}",
            route.function,
            status,
            body_json(&response),
            event
        );
        if status.is_client_error() {
            let body = body_json(&response);
            prop_assert_eq!(body["success"].as_bool(), Some(false), "{}", body);
            prop_assert_eq!(body["requestId"].as_str(), Some(id.as_str()), "{}", body);
        }
        Ok(())
    });
    result.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_body_over_a_routes_limit_is_a_413_before_anything_else() {
    let (runtime, ctx, _dir, routes) = embedded();
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    let result = runner.run(&(events(), 1..64usize), |(e, over)| {
        let route = routes[e.route.index(routes.len())];
        let limit = route.max_body.unwrap_or(ctx.config.max_body_bytes);
        let e = Event { body: Some((false, "a".repeat(limit + over))), ..e };
        let response = runtime.block_on(dispatch(&ctx, route, lambda_request(gateway(route, &e))));
        prop_assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{}", route.function);
        prop_assert!(response.headers().contains_key("x-request-id"));
        Ok(())
    });
    result.unwrap_or_else(|e| panic!("{e}"));
}
