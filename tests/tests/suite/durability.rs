//! "2xx means saved" on the embedded backend: the real local server runs in a
//! child process (this test binary again, running `server_child`), takes a
//! burst of concurrent writes over HTTP (registrations and profile updates),
//! and is killed with SIGKILL in the middle of it. A server on the same data
//! folder must then have every write that was answered 2xx before the kill.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::TestServer;
use whatif_tests::api::{self, PASSWORD};

/// Set (to the data folder) in the child process only.
const CHILD_DIR: &str = "WHATIF_DURABILITY_CHILD_DIR";
const WRITERS: usize = 16;
/// Acknowledged writes before the kill: the burst is still under way then.
const ACKED_BEFORE_KILL: usize = 120;

fn generous() -> RateLimits {
    RateLimits::parse("auth=100000/15m,general=100000/15m,generate=100000/1h").expect("valid limits")
}

/// The child: a local server on `$WHATIF_DURABILITY_CHILD_DIR`, which says
/// where it listens and then serves until killed. A no-op in the normal run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let server = TestServer::start_in(Path::new(&dir), |c| c.rate_limits = generous()).await;
    println!("LISTENING {}", server.addr);
    // The parent kills us long before; this only bounds an orphan's life.
    tokio::time::sleep(Duration::from_secs(120)).await;
}

/// Kills the child when the test ends early.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path) -> (Killed, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args(["durability::server_child", "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep draining stdout so the child never blocks on (or dies of) a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may have written "test durability::server_child ... " first.
            if let Some((_, addr)) = line.split_once("LISTENING ") {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let child = Killed(child);
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("the child server starts within 60 s");
    (child, format!("http://{addr}"))
}

/// What the server acknowledged: accounts registered (email → token), and
/// each account's last profile update answered 2xx (email → step).
#[derive(Default)]
struct Acked {
    accounts: HashMap<String, String>,
    updates: HashMap<String, u64>,
}

/// One request; None when the server did not answer (it was killed).
async fn send(request: reqwest::RequestBuilder) -> Option<(u16, Value)> {
    let response = request.timeout(Duration::from_secs(30)).send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.ok()?;
    Some((status, body))
}

/// One writer: registers an account, updates its profile three times with
/// increasing steps, and again, until told to stop or the server is gone.
async fn writer(base: String, n: usize, acked: Arc<Mutex<Acked>>, count: Arc<AtomicUsize>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let mut step = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let email = format!("crash.{n}.{step}.{}@example.com", std::process::id());
        let register =
            http.post(format!("{base}/api/auth/register")).json(&json!({"email": email, "password": PASSWORD}));
        let Some((status, body)) = send(register).await else { return };
        assert_eq!(status, 201, "{body}");
        let token = body["data"]["accessToken"].as_str().expect("a token").to_string();
        acked.lock().unwrap().accounts.insert(email.clone(), token.clone());
        count.fetch_add(1, Ordering::Relaxed);
        for _ in 0..3 {
            step += 1;
            let update = http
                .put(format!("{base}/api/users/profile"))
                .bearer_auth(&token)
                .json(&json!({"displayName": format!("step {step}")}));
            let Some((status, body)) = send(update).await else { return };
            assert_eq!(status, 200, "{body}");
            acked.lock().unwrap().updates.insert(email.clone(), step);
            count.fetch_add(1, Ordering::Relaxed);
        }
        step += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_answered_before_a_kill_9_survives_it() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_child(data.path());

    let acked = Arc::new(Mutex::new(Acked::default()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| tokio::spawn(writer(base.clone(), n, acked.clone(), count.clone(), stop.clone())))
        .collect();
    let started = Instant::now();
    while count.load(Ordering::Relaxed) < ACKED_BEFORE_KILL {
        assert!(started.elapsed() < Duration::from_secs(60), "only {count:?} writes answered in 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL, with the writers still sending: no shutdown, no flush.
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("the child is reaped");
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer saw only 2xx or no answer");
    }
    // Every 2xx was sent before the kill, so every one is acknowledged.
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(!acked.accounts.is_empty() && !acked.updates.is_empty());

    let server = TestServer::start_in(data.path(), |c| c.rate_limits = generous()).await;
    for (email, token) in &acked.accounts {
        let profile = api::get(&server, "/api/users/profile", Some(token)).await;
        assert_eq!(profile.status, 200, "registered {email} before the kill, gone after it: {profile:?}");
        let user = &profile.data()["user"];
        assert_eq!(user["email"], email.as_str(), "{profile:?}");
        if let Some(step) = acked.updates.get(email) {
            // Later updates may have landed unanswered; never an earlier one.
            let shown = user["displayName"].as_str().and_then(|s| s.strip_prefix("step ")).and_then(|s| s.parse().ok());
            assert!(
                shown.is_some_and(|shown: u64| shown >= *step),
                "{email}: step {step} was answered before the kill, the profile shows {:?}",
                user["displayName"]
            );
        }
    }
    let login = api::post(
        &server,
        "/api/auth/login",
        None,
        json!({"email": acked.accounts.keys().next().unwrap(), "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status, 200, "{login:?}");
    server.stop().await;
}
