//! What the fuzz targets check, one module per parser family that takes
//! outside input. Each `check` takes the fuzzer's bytes as they would arrive
//! and panics (a finding) when the code under test panics or breaks one of
//! its promises. The targets in `fuzz_targets/` are one line each.

use http::{HeaderValue, Method, StatusCode};
use whatif_shared::http::names_rust_types;
use whatif_shared::{ApiError, ApiRequest};

/// An error that a client may be sent for its input: a 4xx with a code and
/// a message, and no Rust type names in what it says (a field name is the
/// client's own text, and may be anything).
pub fn assert_client_error(err: &ApiError) {
    assert!(err.status.is_client_error(), "not a client error: {err:?}");
    assert!(!err.code.is_empty() && !err.message.is_empty(), "{err:?}");
    let mut message = err.message.as_str();
    for field in &err.errors {
        assert!(!field.field.is_empty() && !field.message.is_empty(), "{err:?}");
        assert!(!names_rust_types(&field.message), "a Rust type in {err:?}");
        message = message.strip_prefix(&format!("{}: ", field.field)).unwrap_or(message);
    }
    assert!(!names_rust_types(message), "a Rust type in {err:?}");
}

/// A POST request with `body` and `content_type`, as the pipeline builds it.
pub fn post(content_type: &str, body: &[u8]) -> ApiRequest {
    let mut req = ApiRequest::new(Method::POST, "/fuzz");
    if let Ok(value) = HeaderValue::from_str(content_type) {
        req.headers.insert(http::header::CONTENT_TYPE, value);
    }
    req.body = bytes::Bytes::copy_from_slice(body);
    req
}

/// A GET request with the query string `raw` parsed as the pipeline does.
pub fn get_with_query(raw: &[u8]) -> ApiRequest {
    let mut req = ApiRequest::new(Method::GET, "/fuzz");
    req.query = url::form_urlencoded::parse(raw).into_owned().collect();
    req
}

/// API Gateway HTTP API (2.0) events through the deserialisation Lambda uses
/// (`lambda_http`) and the pipeline, on an embedded context.
pub mod gateway {
    use std::sync::{Arc, LazyLock};

    use lambda_http::request::LambdaRequest;
    use serde_json::Value;
    use whatif_shared::config::Config;
    use whatif_shared::context::AppContext;
    use whatif_shared::pipeline::dispatch;
    use whatif_shared::routes::Route;

    use super::StatusCode;

    struct State {
        runtime: tokio::runtime::Runtime,
        ctx: Arc<AppContext>,
        routes: Vec<&'static Route>,
        _data: tempfile::TempDir,
    }

    /// One context for the whole run, on a data folder in memory when the
    /// machine has one (the store syncs its commits).
    static STATE: LazyLock<State> = LazyLock::new(|| {
        let shm = std::path::Path::new("/dev/shm");
        let data = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("a data folder");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let config = Config::embedded(data.path().to_path_buf());
        let ctx = runtime.block_on(AppContext::connect(config)).expect("the embedded context starts");
        whatif_app::install();
        let routes = whatif_app::catalog().routes().collect();
        State { runtime, ctx, routes, _data: data }
    });

    /// `data` as the event JSON Lambda delivers; then, when it is a JSON
    /// object, the same event addressed to a route (its `routeKey` set, as
    /// API Gateway does), so that the route's handler reads the fuzzed path,
    /// query, headers and body.
    pub fn check(data: &[u8]) {
        let state = &*STATE;
        let pick = state.routes
            [data.iter().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize)) % state.routes.len()];
        run(state, data, pick);
        if let Ok(Value::Object(mut event)) = serde_json::from_slice::<Value>(data) {
            let route = match event.get("routeKey").and_then(Value::as_str) {
                Some(key) => state.routes.iter().copied().find(|r| r.route_key() == key).unwrap_or(pick),
                None => pick,
            };
            let key = Value::String(route.route_key());
            event.insert("routeKey".into(), key.clone());
            if let Some(Value::Object(context)) = event.get_mut("requestContext") {
                context.insert("routeKey".into(), key);
            }
            run(state, &serde_json::to_vec(&Value::Object(event)).unwrap_or_default(), route);
        }
    }

    /// One event through Lambda's deserialisation, the conversion the Lambda
    /// entry makes (`pipeline::gateway_request`), and `dispatch`. An event
    /// that does not deserialise never reaches a handler (the runtime reports
    /// it); one that does gets an answer with a request id, never a 5xx,
    /// unless it names another route (a miswired integration: a 500).
    fn run(state: &State, event: &[u8], fallback: &'static Route) {
        let Ok(parsed) = serde_json::from_slice::<LambdaRequest>(event) else { return };
        let route_key = match &parsed {
            LambdaRequest::ApiGatewayV2(e) => e.request_context.route_key.clone(),
            _ => None,
        };
        let route = match &route_key {
            Some(key) => state.routes.iter().copied().find(|r| r.route_key() == *key).unwrap_or(fallback),
            None => fallback,
        };
        let miswired = route_key.as_deref().is_some_and(|key| key != route.route_key());
        let request = whatif_shared::pipeline::gateway_request(parsed);
        let response = state.runtime.block_on(dispatch(&state.ctx, route, request));
        let status = response.status();
        let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(!request_id.is_empty(), "{} answered {status} without X-Request-Id", route.function);
        if miswired {
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{} ran an event for {route_key:?}", route.function);
        } else {
            assert!(!status.is_server_error(), "{} answered {status}: {:?}", route.function, response.body());
        }
    }
}

/// `ApiRequest::json` with the API's real body types.
pub mod bodies {
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::{StatusCode, assert_client_error, post};

    /// Any bytes as the body of every route that reads one: the typed body
    /// (then it was a JSON object), or a 400 in the API's own words.
    pub fn check(data: &[u8]) {
        let req = post("application/json", data);
        one::<whatif_sharing::create::CreateBody>(&req);
        one::<whatif_sharing::update::UpdateBody>(&req);
        one::<whatif_sharing::record::RecordBody>(&req);
        one::<whatif_sharing::report::ReportBody>(&req);
        one::<whatif_auth::register::RegisterBody>(&req);
        one::<whatif_auth::login::LoginBody>(&req);
        one::<whatif_generation::routes::generate::GenerateBody>(&req);
        one::<whatif_generation::routes::batch::BatchBody>(&req);
        one::<whatif_generation::routes::continue_scenario::ContinueBody>(&req);
        one::<whatif_generation::routes::regenerate::RegenerateBody>(&req);
        one::<whatif_history::update::UpdateBody>(&req);
        one::<whatif_history::bulk::BulkBody>(&req);
        one::<whatif_users::profile::ProfileBody>(&req);
        one::<whatif_auth::forgot_password::ForgotBody>(&req);
        one::<whatif_auth::logout::LogoutBody>(&req);
        one::<whatif_auth::oauth::OauthBody>(&req);
        one::<whatif_auth::refresh::RefreshBody>(&req);
        one::<whatif_auth::reset_password::ResetBody>(&req);
        one::<whatif_auth::verify_email::VerifyBody>(&req);
        one::<whatif_users::avatar::AvatarUploadBody>(&req);
        one::<whatif_users::change_email::ChangeEmailBody>(&req);
        one::<whatif_users::change_password::ChangePasswordBody>(&req);
        one::<whatif_users::delete_account::DeleteAccountBody>(&req);
        one::<whatif_media::video_generate::VideoBody>(&req);
        one::<whatif_media::tts_generate::TtsBody>(&req);
        one::<whatif_social::comments_create::CommentBody>(&req);
        one::<whatif_social::comments_update::CommentEditBody>(&req);
        one::<whatif_social::posts_create::NewPostBody>(&req);
        one::<whatif_social::posts_update::PostEditBody>(&req);
        one::<whatif_admin::reports_update::ResolveBody>(&req);
        one::<whatif_admin::users_update::UpdateBody>(&req);
        one::<whatif_profiles::read::ReadBody>(&req);
        one::<whatif_billing::checkout::CheckoutBody>(&req);
        // Any other content type is a 415, whatever the body.
        let err = post("text/plain", data).json::<whatif_sharing::report::ReportBody>().unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    fn one<T: DeserializeOwned>(req: &whatif_shared::ApiRequest) {
        match req.json::<T>() {
            Ok(_) => assert!(
                matches!(serde_json::from_slice::<Value>(&req.body), Ok(Value::Object(_))),
                "{} took a body that is not a JSON object",
                std::any::type_name::<T>()
            ),
            Err(err) => {
                assert_eq!(err.status, StatusCode::BAD_REQUEST, "{err:?}");
                assert!(matches!(err.code, "INVALID_JSON" | "VALIDATION_ERROR"), "{err:?}");
                if err.code == "VALIDATION_ERROR" {
                    assert!(!err.errors.is_empty(), "a validation error names its field: {err:?}");
                }
                assert_client_error(&err);
            }
        }
    }
}

/// The validator of a model's raw text (`parse_model_output`).
pub mod model {
    use whatif_generation::scenario::{CHOICES, SECTIONS, TITLE_MAX, parse_model_output};
    use whatif_generation::{GeneratedScenario, Screen};

    /// Any text: a scenario that keeps every rule and reads back to itself
    /// (from the JSON a model is asked for, and as stored), or the problems.
    pub fn check(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        match parse_model_output(&text) {
            Ok(scenario) => {
                assert!(SECTIONS.contains(&scenario.sections().len()));
                assert!(CHOICES.contains(&scenario.choices().len()));
                let title = scenario.title().chars().count();
                assert!((1..=TITLE_MAX).contains(&title));
                assert!(scenario.content().starts_with("## "));
                let again = parse_model_output(&scenario.to_model_json().to_string());
                assert_eq!(again.as_ref(), Ok(&scenario), "the model JSON reads back");
                let stored = serde_json::to_value(&scenario).expect("a scenario serialises");
                let read: GeneratedScenario = serde_json::from_value(stored).expect("a stored scenario reads back");
                assert_eq!(read, scenario);
                let _ = Screen::default().check_output(&scenario);
            }
            Err(err) => {
                assert!(!err.problems.is_empty() && err.problems.iter().all(|p| !p.is_empty()), "{err:?}");
            }
        }
    }
}

/// Pagination: `decode_cursor` and `PageRequest::from_request`.
pub mod cursors {
    use whatif_shared::pagination::{MAX_LIMIT, PageRequest, decode_cursor, encode_cursor};

    use super::{StatusCode, assert_client_error, get_with_query};

    /// The bytes as a cursor, and as the query string of a listing.
    pub fn check(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        match decode_cursor(&text) {
            Ok(item) => assert_eq!(decode_cursor(&encode_cursor(&item)).as_ref(), Ok(&item)),
            Err(err) => {
                assert_eq!((err.status, err.errors[0].field.as_str()), (StatusCode::BAD_REQUEST, "cursor"));
                assert_client_error(&err);
            }
        }
        let req = get_with_query(data);
        match PageRequest::from_request(&req) {
            Ok(page) => {
                assert!(page.page >= 1 && (1..=MAX_LIMIT).contains(&page.limit), "{page:?}");
                let _ = page.offset();
                assert_eq!(page.cursor.is_some(), req.query_param("cursor").is_some_and(|c| !c.is_empty()));
            }
            Err(err) => {
                assert_eq!(err.status, StatusCode::BAD_REQUEST);
                assert!(["page", "limit", "cursor"].contains(&err.errors[0].field.as_str()), "{err:?}");
                assert_client_error(&err);
            }
        }
    }
}

/// Share ids, the QR route's `format` and `size`, and the QR renderer.
pub mod sharing {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use whatif_sharing::qr::{self, MAX_SIZE, MIN_SIZE, QrError, QrFormat};
    use whatif_sharing::qr_image;
    use whatif_sharing::share::{RANDOM_LEN, ShareId};

    use super::{StatusCode, assert_client_error, get_with_query};

    /// The longest text rendered as a PNG (a large PNG costs milliseconds).
    const PNG_TEXT_MAX: usize = 256;

    pub fn check(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        // A share id: exactly what the system issues, and nothing else.
        if let Some(id) = ShareId::parse(&text) {
            assert_eq!(id.as_str(), text);
            let (random, scenario) = text.split_at(RANDOM_LEN);
            let bytes = URL_SAFE_NO_PAD.decode(random).expect("a parsed id decodes");
            assert_eq!(URL_SAFE_NO_PAD.encode(bytes), random);
            // Then nothing, or the scenario's id as the system writes it.
            match id.scenario() {
                Some(named) => assert_eq!(whatif_shared::ScenarioId::parse(scenario).ok(), Some(named)),
                None => assert!(scenario.is_empty()),
            }
        }
        // The QR route's query, as the pipeline reads it.
        let req = get_with_query(data);
        let (format, size) = (req.query_param("format"), req.query_param("size"));
        match qr_image::params(format, size) {
            Ok((parsed, pixels)) => {
                assert!((MIN_SIZE..=MAX_SIZE).contains(&pixels));
                let expected = match format {
                    None | Some("") | Some("png") => QrFormat::Png,
                    Some("svg") => QrFormat::Svg,
                    Some(other) => panic!("format {other:?} was taken"),
                };
                assert_eq!(parsed, expected);
            }
            Err(err) => {
                assert_eq!(err.status, StatusCode::BAD_REQUEST);
                assert!(["format", "size"].contains(&err.errors[0].field.as_str()), "{err:?}");
                assert_client_error(&err);
            }
        }
        // The renderer: any text and size, a code or "too long".
        let size = data.iter().take(2).fold(0u32, |n, b| n * 256 + u32::from(*b));
        let formats: &[QrFormat] =
            if text.len() <= PNG_TEXT_MAX { &[QrFormat::Svg, QrFormat::Png] } else { &[QrFormat::Svg] };
        for format in formats {
            match qr::render(&text, *format, size) {
                Ok(bytes) => assert!(!bytes.is_empty()),
                Err(QrError::TooLong) => {}
                Err(other) => panic!("{other}"),
            }
        }
    }
}
