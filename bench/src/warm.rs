//! Warm invocations, in-process on the embedded backend: the time the shared
//! pipeline takes per request once the context exists, and the same through
//! lambda_http's own event → response conversion with the production JSON logs.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service, service_fn};
use serde_json::json;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use whatif_shared::auth::AuthLevel;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::pipeline::dispatch;
use whatif_shared::routes::{Route, RouteDoc};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::{Options, Row, Stats, runtime_api};

const BUDGET_US: f64 = 200.0;

/// A route whose handler does nothing: what remains is the pipeline's own cost.
pub const TRIVIAL: Route = Route {
    function: "trivial",
    method: Method::GET,
    path: "/bench/trivial",
    auth: AuthLevel::None,
    rate: None,
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 3,
    max_body: None,
    access: &[],
    handler: whatif_shared::handler!(trivial),
    doc: RouteDoc::new("bench", "Answers {} at once"),
};

async fn trivial(_ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    Ok(Reply::ok(json!({})))
}

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let ctx = AppContext::connect(Config::embedded(dir.path().join("data"))).await.map_err(|e| e.to_string())?;
    let n = options.iterations;
    let logs = Dispatch::new(json_logs());
    println!("\n== warm: {n} calls per measure after {} warm-up calls, in-process, embedded backend", n / 10);
    println!("   dispatch = pipeline::dispatch on a ready lambda_http::Request (no log subscriber)");
    println!("   lambda   = event JSON → LambdaRequest → lambda_http Adapter → dispatch → response JSON,");
    println!("              with the production JSON log format written to a sink (everything but I/O)");
    println!("   {:<34} {:>9} {:>9} {:>9} {:>9} {:>9}", "µs per request", "min", "median", "mean", "p99", "max");
    let mut rows = Vec::new();
    // The two platform routes (no body, no auth), then the pipeline alone.
    let mut routes: Vec<&'static Route> =
        whatif_local::routes().into_iter().filter(|r| ["health", "openapi"].contains(&r.function)).collect();
    routes.push(&TRIVIAL);
    for route in routes {
        let event = runtime_api::event(&options.workspace, route);
        let dispatched = measure(n, || dispatch_once(&ctx, route, &event)).await?;
        print(&format!("{} dispatch", route.function), &dispatched);
        let lambda = measure(n, || lambda_once(&ctx, route, &event, &logs)).await?;
        print(&format!("{} lambda", route.function), &lambda);
        rows.push(Row::new(
            format!("warm dispatch: {}", route.function),
            format!("{:.1} µs median (p99 {:.1})", dispatched.median, dispatched.p99),
            "",
            None,
        ));
        let (budget, pass) = match route.function {
            // The budget is about overhead: the trivial route has nothing else.
            "trivial" => ("≤ 0.2 ms", Some(lambda.median <= BUDGET_US)),
            _ => ("", None),
        };
        rows.push(Row::new(
            format!("warm Lambda path + logs: {}", route.function),
            format!("{:.1} µs median (p99 {:.1})", lambda.median, lambda.p99),
            budget,
            pass,
        ));
        if route.function == "trivial" {
            let parse = measure(n, || parse_once(&event)).await?;
            print("trivial event parse only", &parse);
        }
    }
    Ok(rows)
}

fn print(label: &str, s: &Stats) {
    println!("   {label:<34} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}", s.min, s.median, s.mean, s.p99, s.max);
}

/// Runs `once` n/10 times to warm up, then n times; each call returns the time it measured.
async fn measure<F, Fut>(n: usize, mut once: F) -> Result<Stats, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Duration, String>>,
{
    for _ in 0..n / 10 {
        once().await?;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        times.push(once().await?.as_secs_f64() * 1e6);
    }
    Stats::of(&mut times).ok_or_else(|| "no samples".into())
}

fn request(event: &Bytes) -> Result<lambda_http::Request, String> {
    let parsed: LambdaRequest = serde_json::from_slice(event).map_err(|e| format!("the event does not parse: {e}"))?;
    Ok(http::Request::from(parsed))
}

async fn parse_once(event: &Bytes) -> Result<Duration, String> {
    let started = Instant::now();
    let req = request(event)?;
    let elapsed = started.elapsed();
    drop(std::hint::black_box(req));
    Ok(elapsed)
}

async fn dispatch_once(ctx: &Arc<AppContext>, route: &Route, event: &Bytes) -> Result<Duration, String> {
    let req = request(event)?;
    let started = Instant::now();
    let response = dispatch(ctx, route, req).await;
    let elapsed = started.elapsed();
    if !response.status().is_success() {
        return Err(format!("{} answered {}", route.function, response.status()));
    }
    Ok(elapsed)
}

/// What `lambda_http::run` does with one event, minus the Runtime API's HTTP.
async fn lambda_once(
    ctx: &Arc<AppContext>,
    route: &'static Route,
    event: &Bytes,
    logs: &Dispatch,
) -> Result<Duration, String> {
    let ctx = ctx.clone();
    let mut adapter = Adapter::from(service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(dispatch(&ctx, route, req).await) }
    }));
    let work = async {
        let started = Instant::now();
        let payload: LambdaRequest = serde_json::from_slice(event).map_err(|e| e.to_string())?;
        let Ok(response) = adapter.call(LambdaEvent::new(payload, Context::default())).await;
        let json = serde_json::to_vec(&response).map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        let status = serde_json::from_slice::<serde_json::Value>(&json).ok().and_then(|v| v["statusCode"].as_u64());
        if status != Some(200) {
            return Err(format!("{} answered status {status:?}", route.function));
        }
        Ok(elapsed)
    };
    work.with_subscriber(logs.clone()).await
}

/// The subscriber `whatif_shared::logging::init(true)` installs, writing to a sink.
fn json_logs() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_target(false)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .with_writer(std::io::sink)
        .finish()
}
