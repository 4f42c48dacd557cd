//! Throughput of the local server on the embedded store: the server runs
//! in-process on 127.0.0.1:0 and keep-alive HTTP/1.1 connections drive it for
//! a fixed time. When `wrk` is installed it also drives the same server, and
//! the release `whatif-local` binary, for comparison.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http::header::HOST;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use whatif_shared::config::Config;
use whatif_shared::ratelimit::RateLimits;

use crate::{Options, Row, Stats};

const PATHS: [&str; 2] = ["/health", "/openapi.json"];
const WARM_UP: Duration = Duration::from_secs(1);
/// "Thousands of requests per second on 2 cores."
const BUDGET_RPS: f64 = 2000.0;
/// A signed-in owner reading a scenario (issue "a request costs what it must").
const BUDGET_READ_RPS: f64 = 5000.0;

/// What one run sends: a path, and the bearer token when signed in.
#[derive(Clone)]
struct Target {
    path: String,
    token: Option<String>,
}

struct Load {
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let (connections, duration) = (options.connections, options.duration);
    println!(
        "\n== rps: {connections} keep-alive connections × {} s per path (after {} s warm-up), loopback",
        duration.as_secs(),
        WARM_UP.as_secs()
    );
    println!(
        "   client and server share this machine's {} CPUs",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let mut config = Config::embedded(dir.path().join("data"));
    config.host = "127.0.0.1".into();
    config.port = 0;
    // The limiter still counts every request; its limits must not end the run.
    config.rate_limits = RateLimits::parse("general=1000000000/15m,generate=1000/1h,auth=1000/15m")
        .map_err(|e| format!("rate limits: {e}"))?;
    let server = whatif_local::bind(config).await.map_err(|e| e.to_string())?;
    let addr = server.addr;
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let wrk = wrk_available();
    let mut rows = Vec::new();
    println!("   {:<50} {:>10} {:>9} {:>9} {:>8}", "", "req/s", "p50 ms", "p99 ms", "errors");
    for path in PATHS {
        let target = Target { path: path.to_string(), token: None };
        drive(addr, &target, connections, WARM_UP).await?;
        let load = drive(addr, &target, connections, duration).await?;
        report(&mut rows, &format!("in-process server, hyper client: GET {path}"), &load, Some(BUDGET_RPS));
        if wrk {
            let load = run_wrk(addr, path, connections, duration).await?;
            report(&mut rows, &format!("in-process server, wrk: GET {path}"), &load, None);
        }
    }
    // A signed-in owner reading their scenario: authentication (the status
    // read), the rate-limit count and the scenario's get, on every request.
    let target = owner_read(addr).await?;
    drive(addr, &target, connections, WARM_UP).await?;
    let load = drive(addr, &target, connections, duration).await?;
    let label = "in-process server, hyper client: GET /api/scenarios/{id} (signed-in owner)";
    report(&mut rows, label, &load, Some(BUDGET_READ_RPS));
    let _ = stop.send(());
    let _ = serving.await;

    let local = options.bin_dir.join("whatif-local");
    match (wrk, local.is_file()) {
        (false, _) => println!("   wrk not found: install it (apt-get install -y wrk) for the comparison runs"),
        (true, false) => println!("   {} not found: `cargo build --release --bins` builds it", local.display()),
        (true, true) => {
            let (mut child, local_addr) = start_local(&local, dir.path()).await?;
            let outcome = async {
                for path in PATHS {
                    let load = run_wrk(local_addr, path, connections, duration).await?;
                    report(&mut rows, &format!("whatif-local binary, wrk: GET {path}"), &load, None);
                }
                Ok::<_, String>(())
            }
            .await;
            let _ = child.kill();
            let _ = child.wait();
            outcome?;
        }
    }
    Ok(rows)
}

/// Registers an account on the server, generates a scenario (the offline
/// provider) and returns the owner's read of it.
async fn owner_read(addr: SocketAddr) -> Result<Target, String> {
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let body = serde_json::json!({"email": "rps-owner@example.com", "password": "a horse of rps 42"});
    let signed: serde_json::Value = http
        .post(format!("{base}/api/auth/register"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("register: {e}"))?
        .json()
        .await
        .map_err(|e| format!("register answer: {e}"))?;
    let token = signed["data"]["accessToken"].as_str().ok_or(format!("no token: {signed}"))?.to_string();
    let body = serde_json::json!({"topic": "What if the Moon had rings?", "options": {"length": "short"}});
    let made: serde_json::Value = http
        .post(format!("{base}/api/generate"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("generate: {e}"))?
        .json()
        .await
        .map_err(|e| format!("generate answer: {e}"))?;
    let id = made["data"]["scenario"]["id"].as_str().ok_or(format!("no scenario: {made}"))?;
    Ok(Target { path: format!("/api/scenarios/{id}"), token: Some(token) })
}

fn report(rows: &mut Vec<Row>, label: &str, load: &Load, budget: Option<f64>) {
    println!("   {label:<44} {:>10.0} {:>9.2} {:>9.2} {:>8}", load.rps, load.p50_ms, load.p99_ms, load.errors);
    let pass = budget.map(|min| load.rps >= min && load.errors == 0);
    rows.push(Row::new(
        format!("rps: {label}"),
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} errors)",
            load.rps, load.p50_ms, load.p99_ms, load.requests, load.errors
        ),
        match budget {
            Some(min) if min >= BUDGET_READ_RPS => "≥ 5000/s",
            Some(_) => "thousands/s (≥ 2000)",
            None => "",
        },
        pass,
    ));
}

/// `connections` keep-alive connections sending the target's GET back to back for `duration`.
async fn drive(addr: SocketAddr, target: &Target, connections: usize, duration: Duration) -> Result<Load, String> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(connection(addr, target.clone(), deadline));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        let (mut l, e) = joined.map_err(|e| format!("a client task failed: {e}"))??;
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = latencies.len();
    let stats = Stats::of(&mut latencies).ok_or("no request completed")?;
    Ok(Load { requests, errors, rps: requests as f64 / elapsed, p50_ms: stats.median, p99_ms: stats.p99 })
}

/// One connection's loop: latencies in ms, and how many answers were not 2xx.
async fn connection(addr: SocketAddr, target: Target, deadline: Instant) -> Result<(Vec<f64>, usize), String> {
    let path = target.path.as_str();
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(conn);
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while Instant::now() < deadline {
        let mut req = Request::get(path).header(HOST, addr.to_string());
        if let Some(token) = &target.token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req.body(Empty::<Bytes>::new()).map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| format!("connection closed: {e}"))?;
        let started = Instant::now();
        let response = sender.send_request(req).await.map_err(|e| format!("GET {path}: {e}"))?;
        let ok = response.status().is_success();
        response.into_body().collect().await.map_err(|e| format!("GET {path} body: {e}"))?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        errors += usize::from(!ok);
    }
    drop(sender);
    let _ = driver.await;
    Ok((latencies, errors))
}

fn wrk_available() -> bool {
    Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// `wrk -t1` (one client thread) with its latency distribution.
async fn run_wrk(addr: SocketAddr, path: &str, connections: usize, duration: Duration) -> Result<Load, String> {
    let args = vec![
        "-t1".to_string(),
        format!("-c{connections}"),
        format!("-d{}s", duration.as_secs()),
        "--latency".to_string(),
        format!("http://{addr}{path}"),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new("wrk").args(&args).output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_wrk(&text)
        .ok_or_else(|| format!("could not read wrk's output:\n{text}{}", String::from_utf8_lossy(&output.stderr)))
}

fn parse_wrk(text: &str) -> Option<Load> {
    let field = |prefix: &str| {
        text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).and_then(|v| v.split_whitespace().next())
    };
    let duration_ms = |v: &str| {
        let (number, scale) = match v {
            _ if v.ends_with("us") => (&v[..v.len() - 2], 0.001),
            _ if v.ends_with("ms") => (&v[..v.len() - 2], 1.0),
            _ if v.ends_with('s') => (&v[..v.len() - 1], 1000.0),
            _ => (v, 1.0),
        };
        number.parse::<f64>().ok().map(|n| n * scale)
    };
    let requests = text.lines().find(|l| l.contains(" requests in ")).and_then(|l| l.split_whitespace().next())?;
    // "Socket errors: connect 0, read 0, write 0, timeout 0"
    let socket_errors: usize = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|v| v.split([' ', ',']).filter_map(|w| w.parse::<usize>().ok()).sum())
        .unwrap_or(0);
    Some(Load {
        requests: requests.parse().ok()?,
        errors: field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0) + socket_errors,
        rps: field("Requests/sec:")?.parse().ok()?,
        p50_ms: duration_ms(field("50%")?)?,
        p99_ms: duration_ms(field("99%")?)?,
    })
}

/// Starts the release `whatif-local` on a free loopback port (its request logs go to /dev/null).
async fn start_local(bin: &Path, dir: &Path) -> Result<(std::process::Child, SocketAddr), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = Command::new(bin)
        .env_remove("RUST_LOG")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("WHATIF_BACKEND", "embedded")
        .env("WHATIF_DATA_DIR", dir.join("local-data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok((child, addr));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited ({status}) at start", bin.display()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("{} did not listen on {addr} within 5 s", bin.display()))
}
