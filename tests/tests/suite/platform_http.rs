//! The platform routes and the server's behaviour, over HTTP through the
//! local server, as a client sees them.

use serde_json::Value;
use whatif_shared::ports::table::{Item, Key};
use whatif_tests::TestServer;

#[tokio::test]
async fn health_reports_every_dependency() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["status"], "healthy");
    for check in ["table", "blobStore", "queue"] {
        assert_eq!(body["data"]["checks"][check]["status"], "ok", "{check}: {body}");
    }
}

#[tokio::test]
async fn health_is_503_when_a_dependency_fails() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    // The blob folder disappears under the running server.
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    let response = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["data"]["status"], "degraded");
    assert_eq!(body["data"]["checks"]["blobStore"]["status"], "failed");
    assert_eq!(body["data"]["checks"]["table"]["status"], "ok");
    assert!(!body.to_string().contains(dir.path().to_str().unwrap()), "no internal paths leak: {body}");
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for route in whatif_local::routes() {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert_eq!(op["operationId"], route.function, "{} {} is in the document", route.method, route.path);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_envelope() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["success"].clone(), body["code"].clone()), (Value::Bool(false), "ROUTE_NOT_FOUND".into()));
    assert_eq!(body["requestId"], request_id.as_str());

    let response = server.http.delete(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn request_ids_are_taken_when_valid_and_made_otherwise() {
    let server = TestServer::start().await;
    let response =
        server.http.get(server.url("/health")).header("x-request-id", "client-abc.123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-abc.123");
    let response =
        server.http.get(server.url("/health")).header("x-request-id", "bad id<script>").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id<script>");
    assert_eq!(id.len(), 26, "a fresh ULID: {id}");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let server = TestServer::start().await;
    let allowed =
        server.http.get(server.url("/health")).header("origin", "http://localhost:3001").send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://localhost:3001");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let other = server.http.get(server.url("/health")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/health"))
        .header("origin", "http://localhost:3001")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(preflight.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().contains("Authorization"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    for path in ["/health", "/openapi.json", "/nope"] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("strict-transport-security"), "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
    }
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let mut item = Item::new();
    item.insert("pk".into(), "TEST#restart".into());
    item.insert("sk".into(), "ITEM".into());
    item.insert("note".into(), "still here".into());
    server.ctx.table.put(item, None).await.unwrap();
    server.stop().await;

    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let item = server.ctx.table.get(&Key::new("TEST#restart", "ITEM")).await.unwrap().expect("item kept");
    assert_eq!(item["note"], "still here");
}

#[tokio::test]
async fn presigned_blob_urls_work_and_cannot_be_forged() {
    let server = TestServer::start().await;
    let ttl = std::time::Duration::from_secs(60);
    let put = server.ctx.blobs.presign_put("avatars/u1/a.png", "image/png", ttl).await.unwrap();
    assert!(put.url.starts_with(&server.base), "{} points at this server", put.url);
    let wrong_type = server.http.put(&put.url).header("content-type", "text/html").body("x").send().await.unwrap();
    assert_eq!(wrong_type.status(), 403);
    let ok = server.http.put(&put.url).header("content-type", "image/png").body(vec![1u8, 2, 3]).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    let get = server.ctx.blobs.presign_get("avatars/u1/a.png", ttl, Some("a.png")).await.unwrap();
    let response = server.http.get(&get.url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"a.png\"");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff", "never sniffed as another type");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &[1, 2, 3]);

    let forged = get.url.replace("avatars/u1/a.png", "avatars/u2/a.png");
    assert_eq!(server.http.get(&forged).send().await.unwrap().status(), 403);
    let as_put = server.http.put(&get.url).header("content-type", "image/png").body("x").send().await.unwrap();
    assert_eq!(as_put.status(), 403, "a GET URL does not allow a PUT");
}

/// A client that sends its headers or its body slowly is cut off instead of
/// holding a connection and a task for as long as it likes.
#[tokio::test]
async fn slow_clients_are_timed_out() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let mut config = whatif_shared::config::Config::embedded(dir.path().to_path_buf());
    config.port = 0;
    let limits = whatif_local::ClientLimits {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        max_connections: 8,
    };
    let server = whatif_local::bind(config).await.unwrap().with_limits(limits);
    let addr = server.addr;
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // Headers that never finish: the server closes the connection.
    let mut slow_headers = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow_headers.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow_headers.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was closed");
    assert!(started.elapsed() < Duration::from_secs(5), "closed after about the header timeout");

    // A body that stops halfway: 408 in the error envelope.
    let mut slow_body = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow_body
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), slow_body.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"REQUEST_TIMEOUT\""), "{text}");

    // And the server still answers everyone else.
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
}
