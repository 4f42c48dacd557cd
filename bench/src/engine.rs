//! The generation engine's own cost around a model call: `POST /api/generate`
//! in-process through the pipeline (the Lambda path) on the embedded backend,
//! with an OpenAI-compatible provider on 127.0.0.1 that answers at once.
//!
//! For each request: *before* is from the request entering the pipeline to
//! the provider receiving the call (auth, rate limit, validation, screen,
//! prompt, the HTTP request); *after* is from the provider's answer to the
//! response (the HTTP answer, parse and validation, the output screen,
//! saving to history and the cache). Budget: the two together under 5 ms.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::ratelimit::RateLimits;

use crate::{Options, Row, Stats, call, route};

const SAMPLES: usize = 300;
const BUDGET_MS: f64 = 5.0;

/// When the fake provider received each call, and when it answered.
#[derive(Default)]
struct Stamps(Mutex<Vec<(Instant, Instant)>>);

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let stamps = Arc::new(Stamps::default());
    let base_url = fake_provider(stamps.clone()).await?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let mut config = Config::embedded(dir.path().join("data"));
    config.rate_limits = RateLimits::parse("generate=1000000/1h,auth=1000/1h")?;
    // Each signed-in generation costs a credit: enough for every sample.
    config.billing.free_monthly = 1_000_000;
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string())?;
    let env = [
        ("WHATIF_MODEL_PROVIDERS", "openai"),
        ("WHATIF_OPENAI_BASE_URL", base_url.as_str()),
        ("OPENAI_API_KEY", "sk-bench"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ctx.set_extension(Arc::new(whatif_generation::engine::from_env(&ctx, &env)?));

    let (status, answer) = call(
        &ctx,
        route("auth-register")?,
        &options.workspace,
        &json!({"email": "bench@example.com", "password": "correct horse 1"}).to_string(),
        None,
    )
    .await?;
    if status != 201 {
        return Err(format!("auth-register answered {status}: {answer}"));
    }
    let token = answer["data"]["accessToken"].as_str().ok_or("no access token")?.to_string();
    let generate = route("generation-generate")?;

    println!(
        "\n== engine: {SAMPLES} generations per case, in-process, embedded backend, a provider that answers at once"
    );
    println!("   {:<50} {:>9} {:>9} {:>9} {:>9}", "ms", "min", "median", "p95", "max");
    let mut rows = Vec::new();
    for (label, token) in [("anonymous (not saved)", None), ("signed in (saved to history)", Some(token.as_str()))] {
        let (mut before, mut after, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..SAMPLES + 10 {
            // A new topic each time, and forceNew: every request calls the model.
            let body = json!({"topic": format!("What if the bench ran {i} times?"), "options": {"forceNew": true}});
            let started = Instant::now();
            let (status, answer) = call(&ctx, generate, &options.workspace, &body.to_string(), token).await?;
            let done = Instant::now();
            if status != 200 {
                return Err(format!("{label}: generate answered {status}: {answer}"));
            }
            let (received, answered) =
                stamps.0.lock().map_err(|_| "poisoned")?.pop().ok_or("the provider was not called")?;
            if i >= 10 {
                // The first ten warm the connection pool and caches.
                before.push(ms(received - started));
                after.push(ms(done - answered));
                total.push(ms(received - started) + ms(done - answered));
            }
        }
        for (part, values) in
            [("before the call", &mut before), ("after the answer", &mut after), ("total", &mut total)]
        {
            let s = Stats::of(values).ok_or("no samples")?;
            println!(
                "   {:<50} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                format!("{label}, {part}"),
                s.min,
                s.median,
                s.p95,
                s.max
            );
            if part == "total" {
                rows.push(Row::new(
                    format!("engine overhead around a model call, {label}"),
                    format!("{:.2} ms median (p95 {:.2})", s.median, s.p95),
                    "< 5 ms",
                    Some(s.p95 < BUDGET_MS),
                ));
            }
        }
    }
    Ok(rows)
}

/// An OpenAI-compatible server on 127.0.0.1 that answers every call at once
/// with a valid scenario; returns its base URL.
async fn fake_provider(stamps: Arc<Stamps>) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen: {e}"))?;
    let base_url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let scenario = json!({
        "title": "The bench that never rested",
        "summary": "A benchmark runs for ever, and the world adapts around it.",
        "sections": [
            {"heading": "The first run", "body": "Numbers scroll past faster than anyone can read."},
            {"heading": "The hundredth run", "body": "The fans hum a tune the office learns by heart."},
            {"heading": "The last run", "body": "Nobody remembers what was being measured."}
        ],
        "choices": [{"id": "a", "text": "Stop the bench."}, {"id": "b", "text": "Let it run."}]
    });
    let body = Bytes::from(
        json!({
            "id": "chatcmpl-bench", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": scenario.to_string()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 400, "completion_tokens": 300, "total_tokens": 700}
        })
        .to_string(),
    );
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let (stamps, body) = (stamps.clone(), body.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (stamps, body) = (stamps.clone(), body.clone());
                    async move {
                        let received = Instant::now();
                        // The whole request is read, as a real server would.
                        let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                        let response = hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .unwrap_or_default();
                        if let Ok(mut stamps) = stamps.0.lock() {
                            stamps.push((received, Instant::now()));
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(base_url)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
