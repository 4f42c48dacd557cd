//! A minimal Lambda Runtime API (the part a function's runtime client calls),
//! serving exactly one API Gateway v2 event, and the event itself.
//!
//! The first `GET /next` gets the event; later ones are held open forever, as
//! Lambda does while it freezes an idle sandbox. Every call is reported, with
//! the instant it arrived, on the channel returned by [`RuntimeApi::start`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use whatif_shared::routes::Route;

const PREFIX: &str = "/2018-06-01/runtime";
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// A call the function made, and when it arrived.
#[derive(Debug)]
pub enum Call {
    /// The first `GET /invocation/next`: init is over.
    Next(Instant),
    Response(Instant, Bytes),
    /// The next `GET /invocation/next`, after the response: the invocation
    /// is over (what the function does after its answer included).
    Done(Instant),
    InitError(Bytes),
    InvocationError(Bytes),
}

/// A running Runtime API; dropping it closes the listener and every connection.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    event: Bytes,
    function: String,
    served: AtomicBool,
    calls: mpsc::UnboundedSender<Call>,
}

impl RuntimeApi {
    /// Listens on 127.0.0.1 (a free port) and serves `event` to function `function`.
    pub async fn start(function: &str, event: Bytes) -> std::io::Result<(Self, mpsc::UnboundedReceiver<Call>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let state =
            Arc::new(State { event, function: function.to_string(), served: AtomicBool::new(false), calls: tx });
        let task = tokio::spawn(async move {
            // Owned here, so aborting this task also ends every connection.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok((Self { addr, task }, rx))
    }
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let path = req.uri().path().strip_prefix(PREFIX).unwrap_or("").to_string();
    let method = req.method().clone();
    if method == Method::GET && path == "/invocation/next" {
        if state.served.swap(true, Ordering::SeqCst) {
            let _ = state.calls.send(Call::Done(arrived));
            // One event per sandbox: hold the poll, like a frozen Lambda.
            std::future::pending::<()>().await;
        }
        let _ = state.calls.send(Call::Next(arrived));
        return next_response(state);
    }
    if method != Method::POST {
        return status(StatusCode::NOT_FOUND);
    }
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let call = match path.as_str() {
        "/init/error" => Call::InitError(body),
        p if p.starts_with("/invocation/") && p.ends_with("/response") => Call::Response(Instant::now(), body),
        p if p.starts_with("/invocation/") && p.ends_with("/error") => Call::InvocationError(body),
        _ => return status(StatusCode::NOT_FOUND),
    };
    let _ = state.calls.send(call);
    status(StatusCode::ACCEPTED)
}

fn next_response(state: &State) -> Response<Full<Bytes>> {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{}", state.function);
    Response::builder()
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", REQUEST_ID)
        .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
        .header("lambda-runtime-invoked-function-arn", arn)
        .header("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
        .body(Full::new(state.event.clone()))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

/// The API Gateway v2 event for `route`: `events/<function>.json` when the
/// repository has one, else a minimal event for the route's method and path
/// (path parameters filled with their names).
pub fn event(workspace: &Path, route: &Route) -> Bytes {
    if let Ok(text) = std::fs::read(workspace.join("events").join(format!("{}.json", route.function))) {
        return Bytes::from(text);
    }
    let path = route.path.replace(['{', '}'], "");
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{} {}", route.method, route.path),
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "accept": "application/json", "host": "bench.execute-api.us-east-1.amazonaws.com" },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": { "method": route.method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.42", "userAgent": "whatif-bench" },
            "requestId": "bench-request",
            "routeKey": format!("{} {}", route.method, route.path),
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1_767_225_600_000_i64,
        },
        "pathParameters": route.path_params().into_iter().map(|p| (p.to_string(), serde_json::json!(p))).collect::<serde_json::Map<_, _>>(),
        "isBase64Encoded": false,
    });
    Bytes::from(event.to_string())
}
