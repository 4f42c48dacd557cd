//! The HTTP listener: matches a request to its route (static segments win
//! over parameters, as in API Gateway), turns it into the Lambda event and
//! runs the shared pipeline; 404 and 405 answer in the error envelope.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
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
use whatif_shared::routes::Route;

/// A bound, ready server.
pub struct Server {
    pub ctx: Arc<AppContext>,
    pub addr: SocketAddr,
    listener: TcpListener,
    routes: Arc<Vec<&'static Route>>,
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
    // A bad model setting stops the start here, not the first generation.
    whatif_generation::engine::start(&ctx).await.map_err(|e| StartError(format!("generation: {e}")))?;
    Ok(Server { ctx, addr, listener, routes: Arc::new(crate::routes()) })
}

impl Server {
    /// Serves, and runs the job worker in-process, until `shutdown` resolves;
    /// then lets the worker finish its jobs and flushes the embedded store.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Server { ctx, listener, routes, .. } = self;
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        // Dropping this future (a crash, in tests) stops the worker with it.
        let mut worker = AbortOnDrop(tokio::spawn(jobs::run_worker(
            ctx.clone(),
            whatif_workers::job_kinds(),
            Lease::from_config(&ctx.config),
            async {
                let _ = worker_stopped.await;
            },
        )));
        // The scheduled workers' twin: the purge of old deleted scenarios, hourly.
        let _purge = AbortOnDrop(tokio::spawn(purge_hourly(ctx.clone())));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let (ctx, routes) = (ctx.clone(), routes.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let (ctx, routes) = (ctx.clone(), routes.clone());
                            async move { Ok::<_, Infallible>(handle(&ctx, &routes, req, peer).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
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

/// Runs `history-purge` at start and every hour, as its schedule does in AWS.
async fn purge_hourly(ctx: Arc<AppContext>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match whatif_history::lifecycle::purge_expired(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged scenarios deleted over 30 days ago"),
            Err(e) => tracing::error!(error = %e.message, "the purge of deleted scenarios failed"),
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
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if let Some(key) = path.strip_prefix("/_blobs/") {
        return crate::blobs::serve(ctx, req, key).await;
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
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let request_id = pipeline::request_id(&parts.headers, None, ctx);
            let origin = parts.headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok());
            let err = ApiError::payload_too_large(route.max_body.unwrap_or(ctx.config.max_body_bytes));
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

pub(crate) fn to_hyper(response: Response<lambda_http::Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Bytes::new(),
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    Response::from_parts(parts, Full::new(bytes))
}

pub(crate) fn status_only(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
