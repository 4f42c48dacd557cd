//! Test harness: spawn the real local server on a free port over a fresh
//! data folder, and build API Gateway events like AWS sends them.

pub mod api;
pub mod fake_http;
pub mod fake_model;
pub mod fake_polly;
pub mod fake_stripe;
pub mod matrix;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;

/// A running `whatif-local` on 127.0.0.1, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub ctx: Arc<AppContext>,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    _data: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server on a new, empty data folder.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(dir.path(), |_| {}).await;
        server._data = Some(dir);
        server
    }

    /// A server on `data_dir`, with `configure` applied to the default config.
    pub async fn start_in(data_dir: &Path, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::embedded(data_dir.to_path_buf());
        config.port = 0;
        configure(&mut config);
        let server = whatif_local::bind(config).await.expect("server binds");
        let (addr, ctx) = (server.addr, server.ctx.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            base: format!("http://{addr}"),
            ctx,
            http: reqwest::Client::new(),
            stop: Some(stop),
            done: Some(done),
            _data: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the server as a crash would: the listener, the worker and any
    /// job under way stop where they are, nothing is flushed. Returns once
    /// its store is closed (another server may then open the folder).
    pub async fn crash(mut self) {
        self.stop.take();
        if let Some(done) = self.done.take() {
            done.abort();
            let _ = done.await;
        }
        let ctx = Arc::downgrade(&self.ctx);
        drop(self);
        // Connection tasks hold the context until their client's sockets close.
        for _ in 0..200 {
            if ctx.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the crashed server's context is still held after 5 s");
    }

    /// Stops the server and waits until it has flushed its store.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An API Gateway HTTP API (2.0) event, as AWS sends it to a route's Lambda.
pub fn gateway_event(method: &str, route_path: &str, raw_path: &str, body: Option<&str>, headers: Value) -> Value {
    let mut all_headers = json!({
        "host": "abc123def4.execute-api.eu-west-1.amazonaws.com",
        "user-agent": "whatif-tests",
        "x-forwarded-for": "198.51.100.7",
    });
    if let (Some(all), Some(extra)) = (all_headers.as_object_mut(), headers.as_object()) {
        all.extend(extra.clone());
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {route_path}"),
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123def4",
            "domainName": "abc123def4.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123def4",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "whatif-tests"},
            "requestId": "TestReq0001=",
            "routeKey": format!("{method} {route_path}"),
            "stage": "$default",
            "time": "22/Nov/2026:03:10:11 +0000",
            "timeEpoch": 1795403411000u64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// Turns an event into the request a function's pipeline is given (Lambda's
/// deserialisation, then `pipeline::gateway_request`, as the Lambda entry does).
pub fn lambda_request(event: Value) -> lambda_http::Request {
    let parsed: lambda_http::request::LambdaRequest = serde_json::from_value(event).expect("a valid API Gateway event");
    whatif_shared::pipeline::gateway_request(parsed)
}

/// A response's body as JSON.
pub fn body_json(response: &http::Response<lambda_http::Body>) -> Value {
    let bytes: &[u8] = match response.body() {
        lambda_http::Body::Text(t) => t.as_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => b"",
    };
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// The emulator endpoint in `var` (`WHATIF_TEST_DYNAMODB_URL`,
/// `WHATIF_TEST_MOTO_URL`); None, after saying the test skips, when it is not
/// set, unless `WHATIF_REQUIRE_EMULATORS=1`, which makes the test fail instead.
pub fn emulator_endpoint(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ if std::env::var("WHATIF_REQUIRE_EMULATORS").as_deref() == Ok("1") => {
            panic!(
                "WHATIF_REQUIRE_EMULATORS=1 but {var} is not set: start the emulators (scripts/emulators) and export it"
            )
        }
        _ => {
            println!("skipped: set {var} to run this test against an emulator");
            None
        }
    }
}

/// Gives an account a role the way `whatif-local promote-admin` does (the
/// same audited change, with the counts it moves), through the running
/// server's store (the command opens the store itself, which the server
/// holds). The role applies from the account's next request.
pub async fn promote(server: &TestServer, user_id: &str, role: whatif_shared::auth::Role) {
    use whatif_shared::accounts::roles::{self, Change};
    let change = Change { role: Some(role), status: None };
    let id = whatif_shared::UserId::from_trusted(user_id);
    let actor = whatif_shared::audit::Actor::system();
    roles::apply(&server.ctx, &actor, &id, &change, Some("user.role"), Some("test"), None).await.expect("a role");
}

/// Waits (up to 30 s, polling every 100 ms) until `check` holds.
pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: never happened in 30 s");
}

/// A name no earlier run used (the emulators keep their tables, mail and
/// queues across runs): the process id and the time.
pub fn unique_suffix() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{}-{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// The sender the emulator servers mail from (verified on moto, as the SES sandbox requires).
pub const EMULATOR_MAIL_FROM: &str = "noreply@whatif.example";

/// The local server on the AWS adapters, on DynamoDB Local and moto, with a
/// table, bucket, queues, secrets prefix and sender of its own, the signing
/// keys set up as a deployment does once, and `configure` applied; with its
/// (otherwise unused) data folder.
pub async fn start_on_emulators(
    dynamodb: &str,
    moto: &str,
    configure: impl FnOnce(&mut Config),
) -> (TestServer, tempfile::TempDir) {
    use whatif_shared::adapters::aws::sdk::{aws_sdk_dynamodb, aws_sdk_sesv2, aws_sdk_sqs};
    use whatif_shared::adapters::aws::{
        create_bucket_if_missing, create_queues_if_missing, create_table_if_missing, emulator_config, s3_client,
    };
    use whatif_shared::config::{AwsResources, Backend};
    // The AWS context reaches the emulators the way it reaches AWS: through the
    // standard variables (only these AWS_* ones, which nothing else in a test
    // binary reads).
    static ENDPOINTS: std::sync::Once = std::sync::Once::new();
    ENDPOINTS.call_once(|| {
        // moto has no SynthesizeSpeech worth probing: Polly is the fake in this crate.
        let polly = fake_polly::fake_polly().url.as_str();
        let vars = [
            ("AWS_ENDPOINT_URL_POLLY", polly),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
            ("AWS_ENDPOINT_URL_S3", moto),
            ("AWS_ENDPOINT_URL_SQS", moto),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto),
            ("AWS_ENDPOINT_URL_SESV2", moto),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ];
        for (name, value) in vars {
            // SAFETY: Rust's own environment accesses are serialised by std; no
            // C code in this process reads these AWS_* variables.
            unsafe { std::env::set_var(name, value) };
        }
    });
    let name = format!("whatif-t-{}", unique_suffix());
    let from = EMULATOR_MAIL_FROM;
    let setup = async {
        create_table_if_missing(&aws_sdk_dynamodb::Client::new(&emulator_config(dynamodb)), &name)
            .await
            .expect("create the table on DynamoDB Local");
        create_bucket_if_missing(&s3_client(&emulator_config(moto), true), &name)
            .await
            .expect("create the bucket on moto");
        let ses = aws_sdk_sesv2::Client::new(&emulator_config(moto));
        // moto, like the SES sandbox, refuses unverified senders.
        if let Err(err) = ses.create_email_identity().email_identity(from).send().await {
            let code = aws_sdk_sesv2::error::ProvideErrorMetadata::code(&err).unwrap_or_default().to_string();
            assert_eq!(code, "AlreadyExistsException", "verify the sender identity");
        }
        create_queues_if_missing(&aws_sdk_sqs::Client::new(&emulator_config(moto)), &name, 5)
            .await
            .expect("create the queues on moto")
    };
    let (queue_url, dlq_url) = tokio::time::timeout(std::time::Duration::from_secs(60), setup)
        .await
        .expect("the emulators answer within a minute");
    let resources = AwsResources {
        table: name.clone(),
        bucket: name.clone(),
        queue_url,
        dlq_url: Some(dlq_url),
        mail_from: from.to_string(),
        secrets_prefix: format!("{name}/"),
        s3_path_style: true,
    };
    let data = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_in(data.path(), |c: &mut Config| {
        c.backend = Backend::Aws(resources);
        configure(c);
    })
    .await;
    whatif_shared::accounts::signing::ensure(&*server.ctx.secrets, &*server.ctx.table, &*server.ctx.clock)
        .await
        .expect("signing keys");
    (server, data)
}
