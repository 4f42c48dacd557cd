//! The Lambda entry: every function of the system deploys the same binary and
//! serves the row its handler names. Lambda sets `_HANDLER` from the
//! function's configured handler (custom runtimes); `WHATIF_FUNCTION`
//! overrides it for tools (the cold-start benchmark, a shell). A name that is
//! in no service's manifest stops the start, naming what exists.
//!
//! At init, before the first event: the configuration (a bad variable stops
//! the start), the context and its ports, the catalog, and the start hook of
//! the function's own service. Then routes serve API Gateway events through
//! the shared pipeline, the job worker serves SQS batches, and a scheduled
//! worker runs once per EventBridge event.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_http::request::LambdaRequest;
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{LambdaEvent, Runtime, Service, service_fn, tower};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{self, JobKind, Lease, Outcome};
use whatif_shared::pipeline::AfterAnswer;
use whatif_shared::ports::Delivery;
use whatif_shared::routes::Access;
use whatif_shared::service::{Catalog, Function, WorkerRun};

/// The variable that names the function when set (else `_HANDLER`).
pub const FUNCTION_VAR: &str = "WHATIF_FUNCTION";

/// The function this process serves: `WHATIF_FUNCTION`, else `_HANDLER`.
pub fn function_name(env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    env(FUNCTION_VAR)
        .or_else(|| env("_HANDLER"))
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| format!("no function named: set the Lambda handler (_HANDLER) or {FUNCTION_VAR}"))
}

/// The function `name` names in `catalog`, or a start error that lists them all.
pub fn resolve(catalog: &Catalog, name: &str) -> Result<Function, String> {
    catalog.function(name).ok_or_else(|| {
        format!("no function is named {name:?}; the functions are: {}", catalog.function_names().join(", "))
    })
}

/// Runs this process as the function its handler names, until Lambda stops it.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let catalog = crate::install();
    let name = function_name(|var| std::env::var(var).ok())?;
    let function = resolve(&catalog, &name)?;
    let config = Config::from_process_env()?;
    whatif_shared::logging::init(config.log_json);
    let base = AppContext::connect(config).await?;
    let access: &'static [Access] = match function {
        Function::Route(route) => route.access,
        Function::Worker(worker) => catalog.worker_access(worker).leak(),
    };
    let function_name: &'static str = match function {
        Function::Route(route) => route.function,
        Function::Worker(worker) => worker.function,
    };
    // The ports as this function's row grants them, as IAM does in AWS.
    let ctx = base.for_function(function_name, access);
    if let Some(start) = catalog.service_of(function_name).and_then(|s| s.start) {
        start(ctx.clone(), access).await.map_err(|e| format!("{function_name} could not start: {e}"))?;
    }
    match function {
        Function::Route(route) => {
            // `lambda_http::run`, with the event normalised before its
            // conversion, and what a request leaves for after its answer run
            // once the answer is sent.
            let pending = Pending::default();
            let leaves = pending.clone();
            let handler = lambda_http::service_fn(move |req| {
                let (ctx, leaves) = (ctx.clone(), leaves.clone());
                async move {
                    let (response, after) = whatif_shared::pipeline::respond(&ctx, route, req).await;
                    *leaves.lock().unwrap_or_else(|e| e.into_inner()) = after;
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            Runtime::new(Normalised(lambda_http::Adapter::from(handler)))
                .layer(TracingLayer::new())
                .layer(tower::layer::layer_fn(move |inner| ThenAfter { inner, pending: pending.clone() }))
                .run()
                .await
        }
        Function::Worker(worker) => match worker.run {
            WorkerRun::Jobs => {
                let kinds = catalog.job_kinds();
                lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
                    let (ctx, kinds) = (ctx.clone(), kinds.clone());
                    async move { Ok::<_, lambda_runtime::Error>(handle_batch(&ctx, &kinds, event.payload).await) }
                }))
                .await
            }
            WorkerRun::Scheduled(job) => {
                lambda_runtime::run(service_fn(move |_event: LambdaEvent<serde_json::Value>| {
                    let ctx = ctx.clone();
                    async move {
                        let done = job(ctx).await.map_err(|e| format!("{}: {}", worker.function, e.message))?;
                        tracing::info!(function = worker.function, "{done}");
                        Ok::<_, lambda_runtime::Error>(serde_json::json!({ "done": done }))
                    }
                }))
                .await
            }
        },
    }
}

/// What the event being served left for after its answer (Lambda hands a
/// process one event at a time).
type Pending = Arc<Mutex<Option<AfterAnswer>>>;

/// The runtime's service with, after it (it sends the answer), what the
/// event left for after its answer: a read's rate-limit count and a view's
/// count go out once the caller has the answer, and are done before the
/// next event.
pub struct ThenAfter<S> {
    pub inner: S,
    pub pending: Pending,
}

impl<S, R> Service<R> for ThenAfter<S>
where
    S: Service<R>,
    S::Future: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>>>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let answered = self.inner.call(request);
        let pending = self.pending.clone();
        Box::pin(async move {
            let out = answered.await;
            let after = pending.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(after) = after {
                after.run().await;
            }
            out
        })
    }
}

/// An HTTP service of Lambda events that normalises each event first
/// (`pipeline::normalise_event`): `lambda_http` panics converting some that
/// clients can cause, such as a raw `"` in the query string.
struct Normalised<S>(S);

impl<S: lambda_runtime::Service<LambdaEvent<LambdaRequest>>> lambda_runtime::Service<LambdaEvent<LambdaRequest>>
    for Normalised<S>
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> Self::Future {
        whatif_shared::pipeline::normalise_event(&mut event.payload);
        self.0.call(event)
    }
}

/// Runs one SQS batch; the messages that should be retried are reported as
/// failures (SQS deletes the others), so one bad job never redoes its batch.
pub async fn handle_batch(ctx: &Arc<AppContext>, kinds: &[&JobKind], event: SqsEvent) -> SqsBatchResponse {
    let runs = event.records.into_iter().map(|record| async move {
        let message_id = record.message_id.unwrap_or_default();
        let delivery = Delivery {
            message_id: message_id.clone(),
            receipt: record.receipt_handle.unwrap_or_default(),
            body: record.body.unwrap_or_default(),
            receive_count: record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1),
        };
        match jobs::process(ctx, kinds, &delivery, Lease::from_config(&ctx.config)).await {
            Outcome::Delete => None,
            Outcome::Retry => Some(message_id),
        }
    });
    let failed = futures::future::join_all(runs).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .flatten()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
