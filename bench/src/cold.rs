//! Cold starts: each function's release binary, spawned like Lambda spawns it
//! (a fresh process, the Lambda environment, a Runtime API to poll), timed
//! from spawn to its first `GET /next` (init) and to its first response.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use whatif_shared::accounts::signing;
use whatif_shared::adapters::aws::sdk::{aws_sdk_dynamodb, aws_sdk_secretsmanager, aws_sdk_sesv2, aws_sdk_sqs};
use whatif_shared::adapters::aws::{
    AwsSecrets, DynamoTable, create_bucket_if_missing, create_queues_if_missing, create_table_if_missing,
    emulator_config, s3_client,
};
use whatif_shared::clock::{Clock, SystemClock};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::Key;
use whatif_shared::routes::Route;
use whatif_shared::{ScenarioId, UserId};

use crate::runtime_api::{self, Call, RuntimeApi};
use crate::{Options, Row, Stats};

/// The budget: spawn → init done, per function, on one vCPU.
const INIT_BUDGET_MS: f64 = 20.0;
/// How long one cold start may take before it counts as failed.
/// (A start under valgrind, for `layout`, takes seconds.)
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(60);
const NAME: &str = "whatif-bench";
/// The sender the functions mail from on the emulators.
const MAIL_FROM: &str = "noreply@whatif.example";

pub(crate) struct Backend {
    pub(crate) name: &'static str,
    /// The AWS adapters on the emulators (else the embedded backend).
    pub(crate) aws: bool,
    pub(crate) env: Vec<(String, String)>,
    /// Holds the data folder and the children's logs; removed on drop.
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) struct Sample {
    init_ms: f64,
    first_ms: f64,
    /// Until the function asked for its next event.
    done_ms: f64,
    peak_rss_kb: Option<f64>,
    pub(crate) status: u16,
}

/// A function's cold starts on one backend.
struct Measured {
    init: Stats,
    first: Stats,
    /// Until the function asked for its next event (after its answer).
    done: Stats,
    peak_rss_kb: Option<Stats>,
    /// The HTTP status of the last answer.
    status: u16,
}

/// The one release binary every function runs.
pub(crate) const LAMBDA_BIN: &str = "whatif-lambda";

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    // Every function runs the one binary; its handler name picks the row.
    let bin = options.bin_dir.join(LAMBDA_BIN);
    if !bin.is_file() {
        return Err(format!(
            "no release binary at {}\n  build it first, from {}:\n    cargo build --release -p whatif-app --bin {LAMBDA_BIN}",
            bin.display(),
            options.workspace.display(),
        ));
    }
    let routes: Vec<&Route> = whatif_local::routes()
        .into_iter()
        .filter(|r| options.functions.is_empty() || options.functions.iter().any(|f| f == r.function))
        .collect();
    if routes.is_empty() {
        return Err(format!("no route is named by --functions {}", options.functions.join(",")));
    }
    let pin = if options.pin { pin_cpu() } else { None };
    println!(
        "== cold start: {} samples per function (after 1 unmeasured start), binaries in {}",
        options.samples,
        options.bin_dir.display()
    );
    match pin {
        Some(cpu) => println!("   children pinned to CPU {cpu} with taskset (approximates one vCPU)"),
        None => println!("   children not pinned (no taskset, or --no-pin)"),
    }
    let mut rows = Vec::new();
    let floor = spawn_floor(pin, options.samples);
    if let Some(floor) = floor {
        println!(
            "   spawn floor (fork + exec + exit of `true`{}): median {:.2} ms",
            if pin.is_some() { " via taskset" } else { "" },
            floor.median
        );
        rows.push(Row::new("cold: process spawn floor (`true`)", format!("{:.2} ms median", floor.median), "", None));
    }

    let mut backends = vec![embedded()?];
    match emulator_urls(options.emulators)? {
        Some((dynamodb, moto)) => backends.push(emulators(&dynamodb, &moto).await?),
        None => println!("   AWS backend skipped: pass --emulators with the emulators running (./scripts/emulators)"),
    }
    for backend in &backends {
        println!("\n-- backend: {}", backend.name);
        println!(
            "   {:<26} {:>26}   {:>26}   {:>10} {:>6}",
            "function", "init ms: min median p95", "first resp.: min median p95", "RSS MB", "status"
        );
        for route in &routes {
            let event = runtime_api::event(&options.workspace, route);
            // The one binary as this function, then (with --compare-dir) the
            // function's own binary of the old layout, for a side-by-side ratio.
            let mut runs = vec![(route.function.to_string(), bin.clone())];
            if let Some(old) = options.compare_dir.as_ref().map(|d| d.join(route.function)).filter(|p| p.is_file()) {
                runs.push((format!("{} (own binary)", route.function), old));
            }
            for (label, bin) in runs {
                let run = Run { bin: &bin, route, log: route.function, env: &[], wrap: &[] };
                match measure(&run, &event, backend, pin, options.samples).await {
                    Ok(measured) => {
                        measured.print(&label);
                        let (Measured { init, first, status, .. }, rss) = (&measured, measured.rss());
                        rows.push(Row::new(
                        format!("cold: {label} ({})", backend.name),
                        format!(
                            "init {:.1} ms (p95 {:.1}), first response {:.1} ms (p95 {:.1}, status {status}), {rss} MB",
                            init.median, init.p95, first.median, first.p95
                        ),
                        "init ≤ 20 ms",
                        Some(init.median <= INIT_BUDGET_MS),
                    ));
                    }
                    Err(e) => {
                        println!("   {label:<26} FAILED: {e}");
                        rows.push(Row::new(
                            format!("cold init: {label}, {}", backend.name),
                            "failed",
                            "≤ 20 ms",
                            Some(false),
                        ));
                    }
                }
            }
        }
        if routes.iter().any(|r| r.function == "history-get")
            && let Err(e) = side_by_side(&bin, backend, pin, options, &mut rows).await
        {
            println!("   history-get as its owner: FAILED: {e}");
            rows.push(Row::new(format!("cold: history-get, owner ({})", backend.name), "failed", "", Some(false)));
        }
    }
    Ok(rows)
}

/// The yardstick: a minimal Rust Lambda that makes one `GetItem`.
const YARDSTICK_BIN: &str = "whatif-yardstick";
/// `history-get`'s first answer, as a multiple of the yardstick's.
const FIRST_RATIO: f64 = 1.2;
/// `history-get`'s init, as a multiple of the yardstick's.
const INIT_RATIO: f64 = 1.1;
/// `history-get`'s peak resident set on the AWS adapters.
const RSS_BUDGET_MB: f64 = 12.0;

/// `history-get` as its signed-in owner reading their scenario (the status
/// read, the rate-limit count and the read itself), and on the AWS backend
/// the yardstick reading the same item, side by side in one run.
async fn side_by_side(
    bin: &Path,
    backend: &Backend,
    pin: Option<usize>,
    options: &Options,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let route = crate::route("history-get")?;
    let (event, key) = owner_read(backend, &options.workspace).await?;
    let run = Run { bin, route, log: "history-get-owner", env: &[], wrap: &[] };
    let read = measure(&run, &event, backend, pin, options.samples).await?;
    if read.status != 200 {
        return Err(format!("the owner's read answered {}", read.status));
    }
    read.print("history-get (owner)");
    rows.push(Row::new(
        format!("cold: history-get, signed-in owner ({})", backend.name),
        format!(
            "init {:.1} ms, first response {:.1} ms (p95 {:.1}), {} MB",
            read.init.median,
            read.first.median,
            read.first.p95,
            read.rss()
        ),
        "",
        None,
    ));
    if !backend.aws {
        return Ok(());
    }
    let yardstick = options.bin_dir.join(YARDSTICK_BIN);
    if !yardstick.is_file() {
        return Err(format!(
            "no yardstick at {}: build it with cargo build --release -p whatif-bench --bin {YARDSTICK_BIN}",
            yardstick.display()
        ));
    }
    let env = [("YARDSTICK_PK".to_string(), key.pk.clone()), ("YARDSTICK_SK".to_string(), key.sk.clone())];
    let run = Run { bin: &yardstick, route, log: "yardstick", env: &env, wrap: &[] };
    let stick = measure(&run, &event, backend, pin, options.samples).await?;
    if stick.status != 200 {
        return Err(format!("the yardstick answered {}", stick.status));
    }
    stick.print("yardstick (one GetItem)");
    let first = read.first.median / stick.first.median;
    let init = read.init.median / stick.init.median;
    println!("   history-get ÷ yardstick: first response {first:.2}×, init {init:.2}×");
    println!(
        "   asking for the next event (after what follows the answer): history-get {:.2} ms, yardstick {:.2} ms (medians)",
        read.done.median, stick.done.median
    );
    rows.push(Row::new(
        "cold: history-get (owner) ÷ one-GetItem yardstick, first response (AWS on emulators)",
        format!("{first:.2}× ({:.1} ms vs {:.1} ms)", read.first.median, stick.first.median),
        "≤ 1.2×",
        Some(first <= FIRST_RATIO),
    ));
    rows.push(Row::new(
        "cold: history-get (owner) ÷ one-GetItem yardstick, init (AWS on emulators)",
        format!("{init:.2}× ({:.1} ms vs {:.1} ms)", read.init.median, stick.init.median),
        "≤ 1.1×",
        Some(init <= INIT_RATIO),
    ));
    rows.push(Row::new(
        "cold: history-get (owner) peak RSS (AWS on emulators)",
        format!("{} MB (yardstick {} MB)", read.rss(), stick.rss()),
        "≤ 12 MB",
        Some(read.rss_mb().is_some_and(|r| r <= RSS_BUDGET_MB)),
    ));
    Ok(())
}

/// Variables set in this process's environment until dropped.
struct Env(Vec<String>);

impl Env {
    fn set(vars: &[(String, String)]) -> Self {
        let region = ("AWS_REGION".to_string(), "us-east-1".to_string());
        let vars: Vec<&(String, String)> = vars.iter().chain((!vars.is_empty()).then_some(&region)).collect();
        for (name, value) in &vars {
            // SAFETY: the benchmark reads no variable from another thread
            // meanwhile; these are the backend's own, removed on drop.
            unsafe { std::env::set_var(name, value) };
        }
        Env(vars.into_iter().map(|(name, _)| name.clone()).collect())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in &self.0 {
            // SAFETY: as in `Env::set`.
            unsafe { std::env::remove_var(name) };
        }
    }
}

/// A new account with one scenario on `backend`, made through the routes
/// in-process: `history-get`'s event for its owner reading it (bearer token
/// and path), and the scenario's table key.
pub(crate) async fn owner_read(backend: &Backend, workspace: &Path) -> Result<(Bytes, Key), String> {
    // The backend's context, built from its environment as a function's is
    // (the SDK reads its endpoints and credentials from the process's, on first use).
    let _env = Env::set(if backend.aws { &backend.env } else { &[] });
    let config = Config::from_env(&backend.env.iter().cloned().collect()).map_err(|e| e.to_string())?;
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string());
    let ctx = ctx?;
    let email = format!("cold-owner-{}-{}@example.com", std::process::id(), ctx.ids.ulid());
    let body = json!({"email": email, "password": "a cold start 42"}).to_string();
    let (status, answer) = crate::call(&ctx, crate::route("auth-register")?, workspace, &body, None).await?;
    if status != 201 {
        return Err(format!("register answered {status}: {answer}"));
    }
    let token = answer["data"]["accessToken"].as_str().ok_or("no access token")?.to_string();
    let owner = answer["data"]["user"]["id"].as_str().ok_or("no user id")?.to_string();
    let body = json!({"topic": "What if the tide stopped for a day?", "options": {"length": "short"}}).to_string();
    let (status, answer) =
        crate::call(&ctx, crate::route("generation-generate")?, workspace, &body, Some(&token)).await?;
    if status != 200 {
        return Err(format!("generate answered {status}: {answer}"));
    }
    let id = answer["data"]["scenario"]["id"].as_str().ok_or("no scenario id")?.to_string();
    ctx.flush();
    // The embedded store is one process's at a time: closed before the functions start.
    drop(ctx);
    let route = crate::route("history-get")?;
    let mut event: serde_json::Value = serde_json::from_slice(&runtime_api::event(workspace, route))
        .map_err(|e| format!("events/history-get.json does not parse: {e}"))?;
    let path = format!("/api/scenarios/{id}");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["id"] = json!(id);
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let key = keys::scenario(&UserId::from_trusted(owner), &ScenarioId::from_trusted(id));
    Ok((Bytes::from(event.to_string()), key))
}

impl Measured {
    /// The median peak RSS, in MB.
    fn rss_mb(&self) -> Option<f64> {
        self.peak_rss_kb.map(|r| r.median / 1024.0)
    }

    /// [`Self::rss_mb`] for a table (`?` when unknown).
    fn rss(&self) -> String {
        self.rss_mb().map_or("?".into(), |r| format!("{r:.1}"))
    }

    /// One line of the printed table.
    fn print(&self, label: &str) {
        let (i, f) = (&self.init, &self.first);
        println!(
            "   {:<26} {:>8.2} {:>8.2} {:>8.2}   {:>8.2} {:>8.2} {:>8.2}   {:>10} {:>6}",
            label,
            i.min,
            i.median,
            i.p95,
            f.min,
            f.median,
            f.p95,
            self.rss(),
            self.status
        );
    }
}

/// What one cold start spawns: `bin` as `route`'s function (its
/// `_HANDLER`), with `env` beside the backend's, logging to `<log>.log`;
/// under `wrap` (a program and its arguments, as `layout` runs valgrind) when given.
pub(crate) struct Run<'a> {
    pub(crate) bin: &'a Path,
    pub(crate) route: &'a Route,
    pub(crate) log: &'a str,
    pub(crate) env: &'a [(String, String)],
    pub(crate) wrap: &'a [String],
}

/// Init, first-response and peak-RSS statistics of `samples` cold starts.
async fn measure(
    run: &Run<'_>,
    event: &Bytes,
    backend: &Backend,
    pin: Option<usize>,
    samples: usize,
) -> Result<Measured, String> {
    let log = backend.dir.path().join(format!("{}.log", run.log));
    // The first start warms the page cache (and creates the embedded store).
    start_once(run, event, backend, pin, &log).await?;
    let (mut init, mut first, mut done, mut rss, mut status) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..samples {
        let sample = start_once(run, event, backend, pin, &log).await?;
        init.push(sample.init_ms);
        first.push(sample.first_ms);
        done.push(sample.done_ms);
        rss.extend(sample.peak_rss_kb);
        status = sample.status;
    }
    let none = || "no samples".to_string();
    Ok(Measured {
        init: Stats::of(&mut init).ok_or_else(none)?,
        first: Stats::of(&mut first).ok_or_else(none)?,
        done: Stats::of(&mut done).ok_or_else(none)?,
        peak_rss_kb: Stats::of(&mut rss),
        status,
    })
}

/// One cold start: spawn, serve one event, read the peak RSS, kill.
pub(crate) async fn start_once(
    run: &Run<'_>,
    event: &Bytes,
    backend: &Backend,
    pin: Option<usize>,
    log: &Path,
) -> Result<Sample, String> {
    let (bin, route) = (run.bin, run.route);
    let (api, mut calls) =
        RuntimeApi::start(route.function, event.clone()).await.map_err(|e| format!("runtime API: {e}"))?;
    let log_file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let stderr = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut command = match run.wrap.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(bin);
            command
        }
        None => launcher(bin, pin),
    };
    command
        .env_clear()
        .envs(lambda_env(route, api.addr, bin))
        .envs(backend.env.iter().map(|(k, v)| (k, v)))
        .envs(run.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(stderr);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let outcome = watch(&mut child, &mut calls, started).await;
    let peak_rss_kb = peak_rss_kb(child.id());
    if run.wrap.is_empty() {
        let _ = child.kill();
    } else {
        // A wrapper (valgrind) writes what it measured on a SIGTERM, not on a SIGKILL.
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    }
    let _ = child.wait();
    drop(api);
    let (times, response) = outcome.map_err(|e| format!("{e}{}", log_tail(log)))?;
    let status = serde_json::from_slice::<serde_json::Value>(&response)
        .ok()
        .and_then(|v| v.get("statusCode").and_then(|s| s.as_u64()))
        .unwrap_or(0);
    // A 4xx is still an answer (a synthesised event without a body, say); a 5xx is a failure.
    if !(200..500).contains(&status) {
        return Err(format!("answered status {status}: {}", excerpt(&response)));
    }
    Ok(Sample {
        init_ms: ms(times.init),
        first_ms: ms(times.first),
        done_ms: ms(times.done),
        peak_rss_kb,
        status: status as u16,
    })
}

/// When a start was ready, answered, and done (asked for its next event).
struct Times {
    init: Duration,
    first: Duration,
    done: Duration,
}

/// Waits for the first `/next`, the response and the next `/next` (what the
/// function does after its answer, such as a read's rate-limit count, ends
/// there); fails on an error call, an early exit or a timeout.
async fn watch(
    child: &mut Child,
    calls: &mut UnboundedReceiver<Call>,
    started: Instant,
) -> Result<(Times, Bytes), String> {
    let (mut init, mut answer) = (None, None);
    loop {
        match tokio::time::timeout(Duration::from_millis(5), calls.recv()).await {
            Ok(Some(Call::Next(at))) => init = Some(at - started),
            Ok(Some(Call::Response(at, body))) => {
                init.ok_or("a response came before any /next")?;
                answer = Some((at - started, body));
            }
            Ok(Some(Call::Done(at))) => {
                let (Some(init), Some((first, body))) = (init, answer) else {
                    return Err("a second /next came before any response".into());
                };
                return Ok((Times { init, first, done: at - started }, body));
            }
            Ok(Some(Call::InitError(body))) => return Err(format!("init error: {}", excerpt(&body))),
            Ok(Some(Call::InvocationError(body))) => return Err(format!("invocation error: {}", excerpt(&body))),
            Ok(None) => return Err("the runtime API stopped".into()),
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("the function exited ({status}) before answering"));
                }
                if started.elapsed() > SAMPLE_TIMEOUT {
                    return Err(format!("no answer within {} s", SAMPLE_TIMEOUT.as_secs()));
                }
            }
        }
    }
}

/// The environment Lambda gives a function (static fake credentials).
fn lambda_env(route: &Route, api: SocketAddr, bin: &Path) -> Vec<(String, String)> {
    let task_root = bin.parent().unwrap_or(Path::new("/")).display().to_string();
    [
        ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
        // What Lambda sets from the function's configured handler.
        ("_HANDLER", route.function.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", route.function.to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", route.function)),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]00000000000000000000000000000000".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string()),
        ("AWS_SESSION_TOKEN", "bench-session-token".to_string()),
        ("LAMBDA_TASK_ROOT", task_root),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("TZ", ":UTC".to_string()),
        ("LANG", "en_US.UTF-8".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn embedded() -> Result<Backend, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let env = vec![
        ("WHATIF_BACKEND".to_string(), "embedded".to_string()),
        ("WHATIF_DATA_DIR".to_string(), dir.path().join("data").display().to_string()),
    ];
    Ok(Backend { name: "embedded", aws: false, env, dir })
}

/// The emulator endpoints: from the environment, required with `--emulators`.
pub(crate) fn emulator_urls(wanted: bool) -> Result<Option<(String, String)>, String> {
    let var = |name| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match (var("WHATIF_TEST_DYNAMODB_URL"), var("WHATIF_TEST_MOTO_URL")) {
        (Some(dynamodb), Some(moto)) => Ok(Some((dynamodb, moto))),
        _ if wanted => Err("--emulators needs WHATIF_TEST_DYNAMODB_URL and WHATIF_TEST_MOTO_URL: start \
                            ./scripts/emulators and export the variables it prints"
            .into()),
        _ => Ok(None),
    }
}

/// The AWS backend on DynamoDB Local and moto, with its table, bucket and queues created.
pub(crate) async fn emulators(dynamodb: &str, moto: &str) -> Result<Backend, String> {
    println!("   creating the table, bucket and queues on the emulators ({dynamodb}, {moto})");
    let setup = async {
        let table = aws_sdk_dynamodb::Client::new(&emulator_config(dynamodb));
        create_table_if_missing(&table, NAME).await.map_err(|e| format!("table on {dynamodb}: {e}"))?;
        create_bucket_if_missing(&s3_client(&emulator_config(moto), true), NAME)
            .await
            .map_err(|e| format!("bucket on {moto}: {e}"))?;
        // As a deployment's first `whatif-local keys rotate --aws` does: the signing keys.
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let secrets =
            AwsSecrets::new(aws_sdk_secretsmanager::Client::new(&emulator_config(moto)), "whatif/".to_string());
        let keys_table = DynamoTable::new(table, NAME.to_string(), clock.clone());
        signing::ensure(&secrets, &keys_table, &*clock).await.map_err(|e| format!("signing keys: {}", e.message))?;
        // moto, like the SES sandbox, refuses unverified senders (sign-up mails one).
        let ses = aws_sdk_sesv2::Client::new(&emulator_config(moto));
        if let Err(err) = ses.create_email_identity().email_identity(MAIL_FROM).send().await
            && aws_sdk_sesv2::error::ProvideErrorMetadata::code(&err) != Some("AlreadyExistsException")
        {
            return Err(format!("verify the sender on {moto}: {err}"));
        }
        let sqs = aws_sdk_sqs::Client::new(&emulator_config(moto));
        create_queues_if_missing(&sqs, &format!("{NAME}-jobs"), 5).await.map_err(|e| format!("queues on {moto}: {e}"))
    };
    let (queue_url, dlq_url) = tokio::time::timeout(Duration::from_secs(60), setup)
        .await
        .map_err(|_| "the emulators did not answer within 60 s".to_string())??;
    let mut env: Vec<(String, String)> = [
        ("WHATIF_BACKEND", "aws"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
        ("AWS_ENDPOINT_URL_S3", moto),
        ("AWS_ENDPOINT_URL_SQS", moto),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto),
        ("AWS_ENDPOINT_URL_SESV2", moto),
        ("WHATIF_TABLE_NAME", NAME),
        ("WHATIF_BUCKET_NAME", NAME),
        ("WHATIF_MAIL_FROM", MAIL_FROM),
        ("WHATIF_S3_PATH_STYLE", "true"),
        // DynamoDB Local keeps one database per access key and region: the
        // functions must use the key the table was created with.
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.push(("WHATIF_QUEUE_URL".into(), queue_url));
    env.push(("WHATIF_DLQ_URL".into(), dlq_url));
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    Ok(Backend { name: "AWS on emulators", aws: true, env, dir })
}

/// The CPU to pin children to (the last one), when `taskset` works here.
fn pin_cpu() -> Option<usize> {
    let cpu = std::thread::available_parallelism().map(|n| n.get() - 1).unwrap_or(0);
    let works = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(cpu)
}

fn launcher(program: &Path, pin: Option<usize>) -> Command {
    match pin {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpu.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Spawn → exit of `true` the same way the functions are spawned: the part of
/// each cold start that is the OS's, not the function's.
fn spawn_floor(pin: Option<usize>, samples: usize) -> Option<Stats> {
    let program = ["/usr/bin/true", "/bin/true"].into_iter().map(PathBuf::from).find(|p| p.is_file())?;
    let mut times = Vec::new();
    for _ in 0..=samples {
        let started = Instant::now();
        launcher(&program, pin).env_clear().status().ok()?;
        times.push(ms(started.elapsed()));
    }
    times.remove(0);
    Stats::of(&mut times)
}

/// `VmHWM` (peak resident set) of a live process, in KiB.
fn peak_rss_kb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text.into() }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "\n     last lines of {}:\n       {}",
        log.display(),
        lines[lines.len().saturating_sub(8)..].join("\n       ")
    )
}
