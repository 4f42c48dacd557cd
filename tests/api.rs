//! Calling the API over HTTP as a client does: one request, its answer.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::TestServer;

pub const PASSWORD: &str = "correct horse 42";

/// A status, the JSON body and the headers a test looks at.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    /// The raw body (files).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// Sends one request: `token` as the bearer, `body` as JSON, extra `headers`.
pub async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = server.http.request(method, server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, body, headers, bytes }
}

pub async fn get(server: &TestServer, path: &str, token: Option<&str>) -> Answer {
    send(server, Method::GET, path, token, None, &[]).await
}

pub async fn post(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> Answer {
    send(server, Method::POST, path, token, Some(body), &[]).await
}

pub async fn patch(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> Answer {
    send(server, Method::PATCH, path, token, Some(body), &[]).await
}

/// A new account (`<tag>.<pid>@example.com`): its access token and user id.
pub async fn sign_up(server: &TestServer, tag: &str) -> (String, String) {
    let email = format!("{tag}.{}@example.com", std::process::id());
    let answer = post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let token = answer.data()["accessToken"].as_str().expect("a token").to_string();
    let id = answer.data()["user"]["id"].as_str().expect("an id").to_string();
    (token, id)
}

/// Polls a job until it is final (or 30 s pass).
pub async fn finished(server: &TestServer, token: &str, job_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let job = get(server, &format!("/api/jobs/{job_id}"), Some(token)).await;
        assert_eq!(job.status, 200, "{job:?}");
        if ["succeeded", "failed", "cancelled"].contains(&job.data()["status"].as_str().unwrap_or_default()) {
            return job.data().clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "job {job_id} never finished: {job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
