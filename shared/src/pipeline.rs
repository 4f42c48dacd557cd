//! The request pipeline every route runs through, in Lambda and in the local
//! server alike: request id → body limit → auth → rate limit (for sign-ins: a
//! read, counted after the handler only when it fails; for a read route: a
//! read beside the handler, counted after the answer) → idempotency →
//! handler → error envelope → common headers (request id, CORS, security,
//! rate limit) → one log line.

use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::FutureExt;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Body, RequestExt};
use tracing::Instrument;

use crate::auth::Principal;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiRequest, Reply};
use crate::idempotency::{self, Begin};
use crate::metering::{self, Gate, Meter};
use crate::ratelimit::{self, Decision, RateClass, Window};
use crate::routes::Route;
use crate::service::BoxFuture;
use crate::tokens::Claims;

/// An API Gateway event as the request `lambda_http` makes of it, after
/// [`normalise_event`] (which the Lambda entry applies before `lambda_http`
/// converts an event): what Lambda hands `dispatch`.
pub fn gateway_request(mut event: LambdaRequest) -> lambda_http::Request {
    normalise_event(&mut event);
    lambda_http::Request::from(event)
}

/// The longest path and query taken together. API Gateway passes at most
/// 10,240 bytes of request line and headers, and `http` holds no URI of 64 KiB
/// (`lambda_http`'s conversion panics on one): longer is no API Gateway event.
const MAX_PATH_AND_QUERY: usize = 16 * 1024;

/// Makes an event one that `lambda_http` converts without panicking: its
/// conversion unwraps a URL built from the `Host` (or the domain name),
/// `X-Forwarded-Proto`, the stage and the raw path, then a URI with the raw
/// query string appended, and a base64 decoding of the body. API Gateway
/// passes a query string as the client wrote it, so a raw space, `"`, `<` or
/// `>` in it (curl sends them as they are) made the function fail before the
/// pipeline ran: a 502 from API Gateway, with no request id and no log line
/// of ours. Such bytes are percent-encoded, which reads the same (the query
/// is form-decoded); what no API Gateway event has (a host that is not one,
/// another scheme, a stage API Gateway would not name, a body flagged base64
/// that is not, a path and query over 16 KiB) is dropped or taken as it is.
pub fn normalise_event(event: &mut LambdaRequest) {
    let LambdaRequest::ApiGatewayV2(e) = event else { return };
    let is_host = |h: &str| {
        h.len() <= 255
            && !h.is_empty()
            && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            && url::Url::parse(&format!("https://{h}/")).is_ok_and(|u| u.host().is_some() && u.path() == "/")
    };
    if e.headers.get(header::HOST).is_some_and(|h| !h.to_str().is_ok_and(is_host)) {
        e.headers.remove(header::HOST);
    }
    if e.request_context.domain_name.as_deref().is_some_and(|h| !is_host(h)) {
        e.request_context.domain_name = None;
    }
    let proto = HeaderName::from_static("x-forwarded-proto");
    if e.headers.get(&proto).is_some_and(|p| !matches!(p.to_str(), Ok("http" | "https"))) {
        e.headers.remove(&proto);
    }
    let stage_ok = |s: &str| {
        s == "$default"
            || (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    };
    if e.request_context.stage.as_deref().is_some_and(|s| !stage_ok(s)) {
        e.request_context.stage = Some("$default".into());
    }
    let path = e.raw_path.get_or_insert_with(|| "/".into());
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let query = e.raw_query_string.get_or_insert_with(String::new);
    if path.len() + query.len() > MAX_PATH_AND_QUERY {
        *path = "/".into();
        query.clear();
    }
    if query.bytes().any(|b| b.is_ascii_control() || b" \"#<>".contains(&b)) {
        *query = percent_encoding::utf8_percent_encode(query, QUERY_ESCAPED).to_string();
    }
    if e.is_base64_encoded {
        use base64::Engine;
        let decodes = e.body.as_deref().is_none_or(|b| base64::engine::general_purpose::STANDARD.decode(b).is_ok());
        e.is_base64_encoded = decodes;
    }
}

/// The bytes a URI's query cannot hold as they are (`http` refuses them; `#`
/// would end the query): the controls, space, `"`, `#`, `<` and `>`.
const QUERY_ESCAPED: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');

/// Runs `route` for one API Gateway request, and what it leaves for after
/// its answer (a read's rate-limit count) before answering: what the local
/// server and the tests run.
pub async fn dispatch(ctx: &Arc<AppContext>, route: &Route, req: lambda_http::Request) -> Response<Body> {
    serve(ctx, route, req, true).await.0
}

/// Runs `route` for one API Gateway request, and returns with its answer
/// what it leaves for after it: Lambda sends the answer, then runs that
/// before it asks for the next event (`whatif_app::lambda`).
pub async fn respond(
    ctx: &Arc<AppContext>,
    route: &Route,
    req: lambda_http::Request,
) -> (Response<Body>, Option<AfterAnswer>) {
    serve(ctx, route, req, false).await
}

/// The work a read leaves for after its answer: its count in its rate limit
/// ([`Window::peek_one`] let it through) and what its handler left there
/// ([`after_answer`]: a view's count). The answer does not wait for it; the
/// next request does (Lambda runs it before it asks for the next event, the
/// local server before it answers). A read its checks refuse leaves nothing.
pub struct AfterAnswer {
    ctx: Arc<AppContext>,
    window: Option<Window>,
    left: Vec<BoxFuture<()>>,
}

impl AfterAnswer {
    fn of(ctx: &Arc<AppContext>, window: Option<Window>, left: &Left) -> Option<Self> {
        let left = left.take();
        (window.is_some() || !left.is_empty()).then(|| AfterAnswer { ctx: ctx.clone(), window, left })
    }

    pub async fn run(self) {
        let count = async {
            if let Some(window) = &self.window
                && let Err(e) = window.count_one(&*self.ctx.table).await
            {
                tracing::error!(error = %e, "could not count a read in its rate limit");
            }
        };
        futures::join!(count, futures::future::join_all(self.left));
    }
}

tokio::task_local! {
    /// Where a read route's handler leaves work for after its answer.
    static LEFT: Left;
}

#[derive(Clone, Default)]
struct Left(Arc<std::sync::Mutex<Vec<BoxFuture<()>>>>);

impl Left {
    fn take(&self) -> Vec<BoxFuture<()>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Leaves `work` for after the answer of the read route running it (a
/// change the answer need not wait for, such as counting a view; it runs
/// only if the request's checks let the request through, and is dropped
/// with an answer they refuse). Anywhere else (another method, a worker, a
/// test calling a handler) it runs now.
pub async fn after_answer(work: impl Future<Output = ()> + Send + 'static) {
    match LEFT.try_with(Left::clone) {
        Ok(left) => left.0.lock().unwrap_or_else(|e| e.into_inner()).push(Box::pin(work)),
        Err(_) => work.await,
    }
}

async fn serve(
    ctx: &Arc<AppContext>,
    route: &Route,
    req: lambda_http::Request,
    settle: bool,
) -> (Response<Body>, Option<AfterAnswer>) {
    let started = Instant::now();
    // The handler sees the ports as its row grants them (as IAM does in AWS):
    // a write, blob, secret, queue or mail use the row does not name is refused.
    let ctx = &ctx.for_function(route.function, route.access);
    let (gateway_id, source_ip) = gateway_context(&req);
    let request_id = request_id(req.headers(), gateway_id.as_deref(), ctx);
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let span = tracing::info_span!("request", request_id = %request_id, function = route.function);
    async move {
        let (mut rate, mut after) = (None, None);
        let meter = Arc::new(Meter::new(ctx.config.cost_header));
        let work = AssertUnwindSafe(run(ctx, route, req, &request_id, source_ip, &mut rate, &mut after)).catch_unwind();
        let result = metering::metered(meter.clone(), work)
            .await
            .unwrap_or_else(|_| Err(ApiError::internal(format!("handler of {} panicked", route.function))));
        if settle && let Some(after) = after.take() {
            metering::metered(meter.clone(), metering::afterwards(after.run())).await;
        }
        let mut response = finish(ctx, result, &request_id, origin.as_deref(), rate);
        let cost = meter.cost();
        if ctx.config.cost_header {
            set(response.headers_mut(), HeaderName::from_static(metering::COST_HEADER), &cost.to_string());
        }
        tracing::info!(
            method = %route.method,
            route = route.path,
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            table_reads = cost.reads,
            table_writes = cost.writes,
            table_transactions = cost.transactions,
            table_round_trips = cost.round_trips,
            blob_calls = cost.blobs,
            queue_calls = cost.queue,
            secret_calls = cost.secrets,
            "request"
        );
        (response, after)
    }
    .instrument(span)
    .await
}

async fn run(
    ctx: &Arc<AppContext>,
    route: &Route,
    req: lambda_http::Request,
    request_id: &str,
    source_ip: Option<IpAddr>,
    rate: &mut Option<Decision>,
    after: &mut Option<AfterAnswer>,
) -> ApiResult<Reply> {
    check_route_key(route, &req)?;
    let path_params = req.path_parameters().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query =
        req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    let limit = route.max_body.unwrap_or(ctx.config.max_body_bytes);
    if body.len() > limit {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut api = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        path_params,
        query,
        headers: parts.headers,
        body,
        request_id: request_id.to_string(),
        source_ip,
        principal: None,
    };
    // The token's signature and claims: no call once the keys are loaded.
    let token = match bearer(route, &api)? {
        None => None,
        Some(token) => Some(match ctx.auth.verify_loaded(&token) {
            Some(verified) => Token::Verified(verified?),
            None => Token::Unverified { claims: ctx.auth.peek(&token)?, token },
        }),
    };
    // A read runs alongside its checks, unless the token says the caller is
    // below the route's level (the status read may say otherwise: checked first).
    let below_level = token.as_ref().is_some_and(|t| permitted(route, &t.claims().principal()).is_err());
    if route.checks_alongside() && !below_level {
        return alongside(ctx, route, api, token, rate, after).await;
    }
    if let Some(token) = &token {
        let principal = token.admit(ctx).await?;
        permitted(route, &principal)?;
        api.principal = Some(principal);
    }
    let subject = ratelimit::subject(api.principal.as_ref(), api.source_ip);
    let window = window(ctx, route, &api, &subject);
    if let Some((class, window)) = &window {
        // A class that counts failures only is read here and counted after the handler.
        *rate = count(ctx, window, !class.counts_failures_only()).await;
        if let Some(decision) = rate.filter(|d| !d.allowed) {
            return Err(ApiError::rate_limited(decision.retry_after));
        }
    }
    let idem_key = api.header(idempotency::HEADER).map(str::to_string);
    let claim = match (route.idempotent, idem_key) {
        (true, Some(key)) => {
            idempotency::validate(&key)?;
            let fingerprint = idempotency::fingerprint(api.method.as_str(), &api.path, &api.body);
            match idempotency::begin(&*ctx.table, &*ctx.clock, &subject, route.function, &key, &fingerprint).await? {
                Begin::Replay(reply) => return Ok(reply),
                Begin::Claimed(claim) => Some(claim),
            }
        }
        _ => None,
    };
    let result = (route.handler.run)(ctx.clone(), api).await;
    if let Some((class, window)) = &window
        && class.counts_failures_only()
        && let Err(err) = &result
        && err.status.is_client_error()
        && err.status != StatusCode::TOO_MANY_REQUESTS
        && let Some(decision) = count(ctx, window, true).await
    {
        *rate = Some(decision);
    }
    if let Some(claim) = claim {
        // Only what ran is kept for replays: a refusal (a bad body, a conflict,
        // a failure) releases the key, so the corrected retry runs.
        let stored = match &result {
            Ok(reply) => idempotency::complete(&*ctx.table, claim, reply).await,
            Err(_) => idempotency::release(&*ctx.table, claim).await,
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "could not store the idempotent response");
        }
    }
    result
}

/// A read route ([`Route::checks_alongside`]): the account status read, the
/// rate-limit window's read and the handler at once, the handler running as
/// the token says. The handler's changes wait for the checks
/// ([`metering::gated`]), and the checks' reads go out with the handler's
/// first single-item read as one call ([`metering::batch`]), so the answer
/// waits for one round trip. The answer is the checks' refusal when they
/// refuse (the handler's is dropped), and the handler runs again, after
/// them, when the status changed who the caller is (a new role or plan since
/// the token was issued). A request let through is counted after its answer
/// (`after`): a read is checked against the requests before it, so requests
/// that arrive at the same moment can pass a window together by as many as
/// arrived at once (writes are counted before they run, exactly).
async fn alongside(
    ctx: &Arc<AppContext>,
    route: &Route,
    mut api: ApiRequest,
    token: Option<Token>,
    rate: &mut Option<Decision>,
    after: &mut Option<AfterAnswer>,
) -> ApiResult<Reply> {
    let guess = token.as_ref().map(|t| t.claims().principal());
    api.principal = guess.clone();
    let subject = ratelimit::subject(api.principal.as_ref(), api.source_ip);
    let window = window(ctx, route, &api, &subject);
    // A caller who signed in: the request kept for a second run should the
    // status say otherwise than the token.
    let again = token.is_some().then(|| api.clone());
    let batched = token.is_some() || window.is_some();
    let (keeper, gate) = Gate::new();
    if batched {
        metering::batch();
    }
    let checks = metering::branch(async {
        let status = metering::branch(async {
            match &token {
                Some(token) => token.admit(ctx).await.map(Some),
                None => Ok(None),
            }
        });
        let read = metering::branch(async {
            let (_, window) = window.as_ref()?;
            window
                .peek_one(&*ctx.table)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "rate limiter unavailable"))
                .ok()
        });
        let (status, decision) = futures::join!(status, read);
        // Changes go through once the checks pass, for the caller the handler runs as.
        let allowed = decision.is_none_or(|d| d.allowed);
        keeper.decide(allowed && status.as_ref().is_ok_and(|p| *p == guess));
        (status, decision)
    });
    let left = Left::default();
    let handler =
        metering::branch(metering::gated(gate, LEFT.scope(left.clone(), (route.handler.run)(ctx.clone(), api))));
    let flush = async {
        if batched {
            // Once the checks and the handler have each had their first turn.
            tokio::task::yield_now().await;
            metering::flush().await;
        }
    };
    let ((status, decision), result, ()) = futures::join!(checks, handler, flush);
    *rate = decision;
    let principal = status?;
    if let Some(decision) = decision.filter(|d| !d.allowed) {
        return Err(ApiError::rate_limited(decision.retry_after));
    }
    let window = decision.and(window).map(|(_, window)| window);
    if principal == guess {
        *after = AfterAnswer::of(ctx, window, &left);
        return result;
    }
    // The account's role or plan is not what the token says: as it is now
    // (what the first run left is dropped with its answer).
    let (Some(mut api), Some(principal)) = (again, principal) else {
        *after = AfterAnswer::of(ctx, window, &left);
        return result;
    };
    permitted(route, &principal)?;
    api.principal = Some(principal);
    let left = Left::default();
    let result = LEFT.scope(left.clone(), (route.handler.run)(ctx.clone(), api)).await;
    *after = AfterAnswer::of(ctx, window, &left);
    result
}

/// A bearer token, its signature checked, or not yet (its keys are not
/// loaded: the first request of a process).
enum Token {
    Verified(Claims),
    Unverified { token: String, claims: Claims },
}

impl Token {
    /// What the token says (checked or not).
    fn claims(&self) -> &Claims {
        match self {
            Token::Verified(claims) | Token::Unverified { claims, .. } => claims,
        }
    }

    /// The caller, once the account's status admits them. A token not
    /// checked yet is checked while the status is read (the keys and the
    /// status at once; in a read, one batch): the status counts only if the
    /// signature holds.
    async fn admit(&self, ctx: &AppContext) -> ApiResult<Principal> {
        match self {
            Token::Verified(claims) => ctx.auth.admit(claims).await,
            Token::Unverified { token, claims } => {
                let (verified, admitted) = futures::join!(ctx.auth.verify(token), ctx.auth.admit(claims));
                verified?;
                admitted
            }
        }
    }
}

/// The bearer token a route reads: none for a route without auth (a token
/// is ignored there), 401 for a malformed `Authorization` header or for a
/// route that needs a caller and got none.
fn bearer(route: &Route, req: &ApiRequest) -> ApiResult<Option<String>> {
    use crate::auth::AuthLevel;
    if route.auth == AuthLevel::None {
        return Ok(None);
    }
    let token = match req.header("authorization") {
        None => None,
        Some(value) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                Some(token.trim().to_string())
            }
            _ => return Err(ApiError::unauthorized("Use Authorization: Bearer <accessToken>")),
        },
    };
    if token.is_none() && route.auth.min_role().is_some() {
        return Err(ApiError::unauthorized("Sign in first"));
    }
    Ok(token)
}

/// 403 when `principal` is below the route's level.
fn permitted(route: &Route, principal: &Principal) -> ApiResult<()> {
    match route.auth.min_role() {
        Some(min) if principal.role < min => Err(ApiError::forbidden("You are not allowed to do this")),
        _ => Ok(()),
    }
}

/// The caller's rate-limit window for this route (None: not limited).
fn window(ctx: &AppContext, route: &Route, api: &ApiRequest, subject: &str) -> Option<(RateClass, Window)> {
    route
        .rate
        .map(|class| (class, Window::of(&*ctx.clock, &ctx.config.rate_limits, class, api.principal.as_ref(), subject)))
}

/// Counts one request in `window` (`hit`), or reads it without counting.
/// None when the store failed: the limiter fails open, so the store being
/// down does not make every route 429.
async fn count(ctx: &AppContext, window: &Window, hit: bool) -> Option<Decision> {
    let decision = if hit { window.hit(&*ctx.table).await } else { window.peek(&*ctx.table).await };
    decision.inspect_err(|e| tracing::error!(error = %e, "rate limiter unavailable")).ok()
}

fn gateway_context(req: &lambda_http::Request) -> (Option<String>, Option<IpAddr>) {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => {
            (c.request_id.clone(), c.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()))
        }
        _ => (None, None),
    }
}

/// Every function deploys the same binary, so an event meant for another
/// route (a miswired integration) must not run this route's handler: it is a
/// server error that names both, in the log.
fn check_route_key(route: &Route, req: &lambda_http::Request) -> ApiResult<()> {
    let Some(RequestContext::ApiGatewayV2(c)) = req.request_context_ref() else { return Ok(()) };
    match c.route_key.as_deref() {
        Some(key) if key != route.route_key() => Err(ApiError::internal(format!(
            "function {} serves `{}`, but was sent an event for `{key}`",
            route.function,
            route.route_key()
        ))),
        _ => Ok(()),
    }
}

/// A valid incoming `X-Request-Id` (1–128 of `[A-Za-z0-9._-]`), else API
/// Gateway's id, else a new ULID.
pub fn request_id(headers: &HeaderMap, gateway_id: Option<&str>, ctx: &AppContext) -> String {
    let valid =
        |s: &str| (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| valid(s))
        .or(gateway_id.filter(|s| valid(s)))
        .map(str::to_string)
        .unwrap_or_else(|| ctx.ids.ulid().to_string())
}

/// Turns the handler's result into the HTTP response with every common header.
pub fn finish(
    ctx: &AppContext,
    result: ApiResult<Reply>,
    request_id: &str,
    origin: Option<&str>,
    rate: Option<Decision>,
) -> Response<Body> {
    let mut response = match result {
        Ok(reply) => reply.into_response(),
        Err(err) => {
            if err.status.is_server_error() {
                tracing::warn!(status = err.status.as_u16(), code = err.code, "request failed");
            }
            let retry_after = err.retry_after;
            let mut response = Reply::raw_json(err.status, err.body(request_id)).into_response();
            if let Some(seconds) = retry_after {
                set(response.headers_mut(), header::RETRY_AFTER, &seconds.to_string());
            }
            response
        }
    };
    let headers = response.headers_mut();
    set(headers, HeaderName::from_static("x-request-id"), request_id);
    // A handler that counted more than the pipeline did (a batch) sets its own.
    if let Some(d) = rate.filter(|_| !headers.contains_key("x-ratelimit-remaining")) {
        set(headers, HeaderName::from_static("x-ratelimit-limit"), &d.limit.to_string());
        set(headers, HeaderName::from_static("x-ratelimit-remaining"), &d.remaining.to_string());
        set(headers, HeaderName::from_static("x-ratelimit-reset"), &d.reset.to_string());
    }
    security_headers(headers);
    cors_headers(&ctx.config.cors_origins, origin, headers);
    let (parts, body) = response.into_parts();
    let is_text = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/"));
    let body = match (body.is_empty(), is_text) {
        (true, _) => Body::Empty,
        (false, true) => match String::from_utf8(body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        },
        (false, false) => Body::Binary(body.to_vec()),
    };
    Response::from_parts(parts, body)
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn security_headers(headers: &mut HeaderMap) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("strict-transport-security", "max-age=63072000; includeSubDomains"),
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// `config::cors::EXPOSE_HEADERS` as one header value.
static EXPOSED: std::sync::LazyLock<HeaderValue> =
    std::sync::LazyLock::new(|| header_list(crate::config::cors::EXPOSE_HEADERS));
/// `config::cors::ALLOW_HEADERS` as one header value.
static ALLOWED: std::sync::LazyLock<HeaderValue> =
    std::sync::LazyLock::new(|| header_list(crate::config::cors::ALLOW_HEADERS));

fn header_list(names: &[&str]) -> HeaderValue {
    HeaderValue::from_str(&names.join(", ")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// CORS for an allowed origin (exact match; never `*`, since we allow credentials).
fn cors_headers(allowed: &[String], origin: Option<&str>, headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin.filter(|o| allowed.iter().any(|a| a == o)) else { return };
    set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED.clone());
}

/// The answer to a CORS preflight (`OPTIONS`) for a path that exists. In AWS
/// the HTTP API answers preflights itself, from the same allow-list.
pub fn preflight(ctx: &AppContext, headers: &HeaderMap, methods: &[Method]) -> Response<Body> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let request_id = request_id(headers, None, ctx);
    let mut response = finish(ctx, Ok(Reply::no_content()), &request_id, origin, None);
    let allowed = origin.is_some_and(|o| ctx.config.cors_origins.iter().any(|a| a == o));
    if allowed {
        let h = response.headers_mut();
        let list = methods.iter().map(Method::as_str).chain(["OPTIONS"]).collect::<Vec<_>>().join(", ");
        set(h, header::ACCESS_CONTROL_ALLOW_METHODS, &list);
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED.clone());
        set(h, header::ACCESS_CONTROL_MAX_AGE, "600");
    }
    response
}

/// The envelope for a request no route takes (404) or a method a path does not take (405).
pub fn fallback(ctx: &AppContext, headers: &HeaderMap, allowed_methods: &[Method]) -> Response<Body> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let request_id = request_id(headers, None, ctx);
    if allowed_methods.is_empty() {
        let err = ApiError::new(StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND", "No route matches this path");
        finish(ctx, Err(err), &request_id, origin, None)
    } else {
        let mut response = finish(ctx, Err(ApiError::method_not_allowed()), &request_id, origin, None);
        let list = allowed_methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        set(response.headers_mut(), header::ALLOW, &list);
        response
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// An API Gateway HTTP API event for `GET /qr/{shareUrl}`, changed by `edit`.
    fn event(edit: impl FnOnce(&mut Value)) -> LambdaRequest {
        let mut event = json!({
            "version": "2.0",
            "routeKey": "GET /qr/{shareUrl}",
            "rawPath": "/qr/AbCdEfGhIjKlMnOpQrStUg",
            "rawQueryString": "format=svg",
            "headers": {"host": "abc123def4.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"},
            "pathParameters": {"shareUrl": "AbCdEfGhIjKlMnOpQrStUg"},
            "requestContext": {
                "domainName": "abc123def4.execute-api.eu-west-1.amazonaws.com",
                "http": {"method": "GET", "path": "/qr/AbCdEfGhIjKlMnOpQrStUg", "sourceIp": "203.0.113.42"},
                "requestId": "CkWq8jP2IAMEVbQ=",
                "routeKey": "GET /qr/{shareUrl}",
                "stage": "$default"
            },
            "isBase64Encoded": false
        });
        edit(&mut event);
        serde_json::from_value(event).unwrap()
    }

    fn query(req: &lambda_http::Request) -> Vec<(String, String)> {
        url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_ordinary_event_converts_as_lambda_http_makes_it() {
        let req = gateway_request(event(|_| {}));
        let plain = lambda_http::Request::from(event(|_| {}));
        assert_eq!(req.uri(), plain.uri());
        assert_eq!(
            req.uri().to_string(),
            "https://abc123def4.execute-api.eu-west-1.amazonaws.com/qr/AbCdEfGhIjKlMnOpQrStUg?format=svg"
        );
        assert_eq!(req.headers(), plain.headers());
    }

    /// Found by the `gateway_event` fuzz target: `lambda_http` panicked
    /// ("failed to build request") on a query string a client wrote with a
    /// raw `"`, space, `<` or `>`. Each now reads as the client meant it.
    #[test]
    fn a_query_with_bytes_a_uri_cannot_hold_reads_as_written() {
        for (raw, expected) in [
            (r#"q="a b""#, pairs(&[("q", "\"a b\"")])),
            ("format=<svg>&size= 256", pairs(&[("format", "<svg>"), ("size", " 256")])),
            ("tag=#1&x=\u{7}", pairs(&[("tag", "#1"), ("x", "\u{7}")])),
            ("q=caf\u{e9}%20au%20lait", pairs(&[("q", "café au lait")])),
        ] {
            let req = gateway_request(event(|e| e["rawQueryString"] = json!(raw)));
            assert_eq!(query(&req), expected, "{raw:?}");
            assert_eq!(req.uri().path(), "/qr/AbCdEfGhIjKlMnOpQrStUg");
        }
    }

    /// Found by the fuzz target too; API Gateway sends none of these, but the
    /// conversion must not panic on them either.
    #[test]
    fn events_no_api_gateway_sends_still_convert() {
        let edits: [fn(&mut Value); 8] = [
            |e| e["headers"]["host"] = json!("not a host"),
            |e| e["headers"]["host"] = json!("example.com:99999"),
            |e| e["requestContext"]["domainName"] = json!("a/b"),
            |e| {
                e["headers"]["x-forwarded-proto"] =
                    json!("gopher-but-much-longer-than-any-scheme-http-takes-in-a-uri-at-all")
            },
            |e| e["requestContext"]["stage"] = json!("a stage?#"),
            |e| e["rawPath"] = json!(":1"),
            |e| e["rawQueryString"] = json!("q=".repeat(40_000)),
            |e| {
                e["isBase64Encoded"] = json!(true);
                e["body"] = json!("not base64!");
            },
        ];
        for edit in edits {
            let req = gateway_request(event(edit));
            assert!(req.uri().path().starts_with('/'), "{}", req.uri());
        }
        // With neither a host nor a domain name: the path alone.
        let req = gateway_request(event(|e| {
            e["headers"]["host"] = json!("not a host");
            e["requestContext"]["domainName"] = json!("not a host either");
        }));
        assert_eq!(req.uri().to_string(), "/qr/AbCdEfGhIjKlMnOpQrStUg?format=svg");
        let req = gateway_request(event(|e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("not base64!");
        }));
        assert!(matches!(req.body(), Body::Text(t) if t == "not base64!"));
        let req = gateway_request(event(|e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("eyJhIjoxfQ==");
        }));
        assert!(matches!(req.body(), Body::Binary(b) if b == br#"{"a":1}"#));
    }
}
