//! What the fake providers (models, Stripe, Polly) have in common: an HTTP/1
//! server on a free local port that hands each request, with the fake's
//! state, to its `answer` function.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A fake's answer to one request.
pub type Answer = Result<Response<Full<Bytes>>, Infallible>;

/// Serves `listener` until the task running this is dropped (its connections
/// live in a set, so they end with it).
pub async fn accept<S, F, Fut>(listener: TcpListener, state: S, answer: F)
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| answer(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// A fake served on this runtime, stopped when dropped.
pub struct Served {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving `answer` with `state` on a free local port.
pub async fn serve<S, F, Fut>(state: S, answer: F) -> Served
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    Served { base_url, task: tokio::spawn(accept(listener, state, answer)) }
}
