//! The HTTP listener: matches a request to its route (static segments win
//! over parameters, as in API Gateway), turns it into the Lambda event and
//! runs the shared pipeline; 404 and 405 answer in the error envelope.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::request::LambdaRequest;
use tokio::net::TcpListener;
use whatif_shared::config::Config;
use whatif_shared::context::{AppContext, StartError};
use whatif_shared::error::ApiError;
use whatif_shared::jobs::{self, Lease};
use whatif_shared::pipeline;
use whatif_shared::routes::{Access, Route};
use whatif_shared::service::{Catalog, WorkerRun};

pub use crate::response::ClientLimits;
use crate::response::{BodyError, read_body, to_hyper};

/// What a scheduled worker runs (`WorkerRun::Scheduled`).
type ScheduledJob = fn(Arc<AppContext>) -> whatif_shared::service::BoxFuture<whatif_shared::ApiResult<String>>;

/// A bound, ready server.
pub struct Server {
    pub ctx: Arc<AppContext>,
    pub addr: SocketAddr,
    listener: TcpListener,
    routes: Arc<Vec<&'static Route>>,
    catalog: Catalog,
    limits: ClientLimits,
}

/// The most a request body may be before the pipeline sees it (routes then
/// apply their own, smaller limits); blob uploads have their own.
const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Binds `config.host:config.port` (port 0 picks a free one) and builds the context.
pub async fn bind(mut config: Config) -> Result<Server, StartError> {
    let listener = TcpListener::bind((config.host.as_str(), config.port))
        .await
        .map_err(|e| StartError(format!("cannot listen on {}:{}: {e}", config.host, config.port)))?;
    let addr = listener.local_addr().map_err(|e| StartError(e.to_string()))?;
    if std::env::var("WHATIF_PUBLIC_URL").is_err() {
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
        config.public_url = format!("http://{host}:{}", addr.port());
    }
    // On the embedded backend this also makes the signing keys on the first start.
    let ctx = AppContext::connect(config).await?;
    let catalog = whatif_app::install();
    // Each service's start hook runs here, as at a Lambda function's init, with
    // what its routes may touch: a bad setting stops the start, not a request.
    for service in catalog.services {
        if let Some(start) = service.start {
            let access: &'static [Access] = service.routes_access().leak();
            start(ctx.for_function(service.name, access), access).await.map_err(StartError)?;
        }
    }
    let routes = Arc::new(catalog.routes().collect());
    Ok(Server { ctx, addr, listener, routes, catalog, limits: ClientLimits::default() })
}

impl Server {
    /// The same server with other limits for slow clients (tests shorten them).
    pub fn with_limits(mut self, limits: ClientLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves, and runs the job worker in-process, until `shutdown` resolves;
    /// then lets the worker finish its jobs and flushes the embedded store.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Server { ctx, listener, routes, catalog, limits, .. } = self;
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        // The job worker, in-process, with what its Lambda function may touch.
        let jobs_ctx = match catalog.workers().find(|w| matches!(w.run, WorkerRun::Jobs)) {
            Some(w) => ctx.for_function(w.function, catalog.worker_access(w).leak()),
            None => ctx.clone(),
        };
        // Dropping this future (a crash, in tests) stops the worker with it.
        let mut worker = AbortOnDrop(tokio::spawn(jobs::run_worker(
            jobs_ctx,
            catalog.job_kinds(),
            Lease::from_config(&ctx.config),
            async {
                let _ = worker_stopped.await;
            },
        )));
        // The scheduled workers, on their schedules (and once at start).
        let _schedules: Vec<AbortOnDrop> = catalog
            .workers()
            .filter_map(|w| match (w.run, w.trigger.every()) {
                (WorkerRun::Scheduled(job), Some(every)) => {
                    let scoped = ctx.for_function(w.function, w.access);
                    Some(AbortOnDrop(tokio::spawn(on_schedule(scoped, w.function, every, job))))
                }
                _ => None,
            })
            .collect();
        let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                permit = connections.clone().acquire_owned() => {
                    let Ok(permit) = permit else { break };
                    let accepted = tokio::select! {
                        _ = &mut shutdown => break,
                        accepted = listener.accept() => accepted,
                    };
                    let Ok((stream, peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let (ctx, routes) = (ctx.clone(), routes.clone());
                    tokio::spawn(async move {
                        let _permit = permit;
                        let service = service_fn(move |req| {
                            let (ctx, routes) = (ctx.clone(), routes.clone());
                            async move { Ok::<_, Infallible>(handle(&ctx, &routes, req, peer, limits).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(limits.header_timeout)
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
        let _ = stop_worker.send(());
        let _ = (&mut worker.0).await;
        ctx.flush();
    }
}

/// Runs a scheduled worker at start and then `every`, as its schedule does in AWS.
async fn on_schedule(ctx: Arc<AppContext>, function: &'static str, every: Duration, job: ScheduledJob) {
    let mut timer = tokio::time::interval(every);
    loop {
        timer.tick().await;
        match job(ctx.clone()).await {
            Ok(done) => tracing::debug!(function, "{done}"),
            Err(e) => tracing::error!(function, error = %e.message, "a scheduled worker failed"),
        }
    }
}

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn handle(
    ctx: &Arc<AppContext>,
    routes: &[&'static Route],
    req: Request<Incoming>,
    peer: SocketAddr,
    limits: ClientLimits,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if let Some(key) = path.strip_prefix("/_blobs/") {
        return crate::blobs::serve(ctx, req, key, limits.body_timeout).await;
    }
    let (route, params, allowed) = find(routes, req.method(), &path);
    let Some(route) = route else {
        let response = if req.method() == Method::OPTIONS && !allowed.is_empty() {
            pipeline::preflight(ctx, req.headers(), &allowed)
        } else {
            pipeline::fallback(ctx, req.headers(), &allowed)
        };
        return to_hyper(response);
    };
    let (parts, body) = req.into_parts();
    let body = match read_body(body, MAX_REQUEST_BYTES, limits.body_timeout).await {
        Ok(bytes) => bytes,
        Err(why) => {
            let request_id = pipeline::request_id(&parts.headers, None, ctx);
            let origin = parts.headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok());
            let err = match why {
                BodyError::TooLarge => ApiError::payload_too_large(route.max_body.unwrap_or(ctx.config.max_body_bytes)),
                BodyError::TooSlow => ApiError::new(
                    http::StatusCode::REQUEST_TIMEOUT,
                    "REQUEST_TIMEOUT",
                    format!("The request body did not arrive within {} seconds", limits.body_timeout.as_secs()),
                ),
            };
            return to_hyper(pipeline::finish(ctx, Err(err), &request_id, origin, None));
        }
    };
    let request_id = ctx.ids.ulid().to_string();
    let event = crate::event::api_gateway_v2(
        route,
        &parts,
        &body,
        &params,
        &peer.ip().to_string(),
        &request_id,
        ctx.clock.now(),
    );
    let lambda_request = match serde_json::from_value::<LambdaRequest>(event) {
        Ok(r) => http::Request::from(r),
        Err(e) => {
            let err = ApiError::internal(format!("could not build the API Gateway event: {e}"));
            return to_hyper(pipeline::finish(ctx, Err(err), &request_id, None, None));
        }
    };
    to_hyper(pipeline::dispatch(ctx, route, lambda_request).await)
}

/// The route for `method` and `path`, its path parameters, and every method the path takes.
pub fn find<'r>(
    routes: &[&'r Route],
    method: &Method,
    path: &str,
) -> (Option<&'r Route>, Vec<(String, String)>, Vec<Method>) {
    let mut best: Option<(&Route, Vec<(String, String)>)> = None;
    let mut allowed = Vec::new();
    for route in routes {
        let Some(params) = route.match_path(path) else { continue };
        // The same path shape can be taken by a static and a parameter route;
        // only the most specific of them counts for this path.
        allowed.push((route.method.clone(), params.len()));
        if route.method == *method && best.as_ref().is_none_or(|(_, p)| params.len() < p.len()) {
            best = Some((route, params));
        }
    }
    let fewest = allowed.iter().map(|(_, n)| *n).min().unwrap_or(0);
    let mut methods: Vec<Method> = allowed.into_iter().filter(|(_, n)| *n == fewest).map(|(m, _)| m).collect();
    methods.dedup();
    match best {
        Some((route, params)) if params.len() == fewest => (Some(route), params, methods),
        _ => (None, Vec::new(), methods),
    }
}
