//! A scripted HTTP server on 127.0.0.1 that plays a model provider: it
//! records every request and answers with the next reply of its script (the
//! last one repeats).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use whatif_generation::prompts;
use whatif_generation::provider::ModelRequest;
use whatif_generation::providers::{ApiKey, HttpProviderConfig};
use whatif_generation::scenario::{GenerationOptions, Topic};

#[derive(Clone, Debug)]
pub enum Reply {
    /// A status, extra headers and a JSON body.
    Json { status: u16, headers: Vec<(&'static str, String)>, body: Value },
    /// A status and a body as given (e.g. cut-off JSON).
    Raw { status: u16, body: String },
    /// Waits this long before answering 200 `{}` (past the client's timeout).
    Hang(Duration),
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::Json { status: 200, headers: Vec::new(), body }
    }
    pub fn status(status: u16, body: Value) -> Reply {
        Reply::Json { status, headers: Vec::new(), body }
    }
    pub fn with_header(self, name: &'static str, value: &str) -> Reply {
        match self {
            Reply::Json { status, mut headers, body } => {
                headers.push((name, value.to_string()));
                Reply::Json { status, headers, body }
            }
            other => other,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    last: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

pub struct FakeServer {
    pub base_url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start(script: Vec<Reply>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State { script: Mutex::new(script.into()), ..Default::default() });
        let served = state.clone();
        let task = tokio::spawn(async move {
            // Connections live in the set, so dropping the server ends them too.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = served.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeServer { base_url, state, task }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// A provider configuration pointing here.
    pub fn config(&self, model: &str, timeout: Duration) -> HttpProviderConfig {
        HttpProviderConfig {
            base_url: self.base_url.clone(),
            model: model.to_string(),
            api_key: Some(ApiKey::new("test-key-123")),
            timeout,
        }
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    state.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        raw: bytes.to_vec(),
    });
    let next = state.script.lock().unwrap().pop_front();
    let reply = match next {
        Some(reply) => {
            *state.last.lock().unwrap() = Some(reply.clone());
            reply
        }
        None => state.last.lock().unwrap().clone().unwrap_or(Reply::status(500, json!({}))),
    };
    let response = match reply {
        Reply::Json { status, headers, body } => {
            let mut builder = Response::builder().status(status).header("content-type", "application/json");
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Full::new(Bytes::from(body.to_string())))
        }
        Reply::Raw { status, body } => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body))),
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            Response::builder().status(200).body(Full::new(Bytes::from("{}")))
        }
    };
    Ok(response.unwrap())
}

/// A valid scenario, as a model would write it.
pub fn scenario_json() -> String {
    json!({
        "title": "What if the Moon vanished?",
        "summary": "Tides shrink, nights darken, and life adapts.",
        "sections": [
            {"heading": "The first night", "body": "The sky is darker than anyone remembers."},
            {"heading": "The tides", "body": "Coastal ecosystems lose their rhythm."},
            {"heading": "A decade later", "body": "Astronomers love the dark skies."}
        ],
        "choices": [{"id": "a", "text": "Build an artificial moon."}, {"id": "b", "text": "Learn to live without it."}]
    })
    .to_string()
}

/// A request for a short scenario about the Moon.
pub fn request() -> ModelRequest {
    let spec = GenerationOptions::default().resolve(Topic::parse("What if the Moon vanished?").unwrap());
    let prompt = prompts::build(&spec, None).unwrap();
    ModelRequest::new(spec, None, prompt)
}

pub const SHORT: Duration = Duration::from_millis(300);
pub const PATIENT: Duration = Duration::from_secs(10);
/// Longer than any client timeout of the tests; the server is dropped first.
pub const FOREVER: Duration = Duration::from_secs(60);
