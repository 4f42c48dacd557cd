//! `whatif-bench`: measures the performance budget of docs/performance.md.
//!
//! ```text
//! cargo run --release -p whatif-bench -- [cold|warm|login|engine|history|rps|store|sharing|social|load|costs|layout|all] [options]
//!   --emulators        cold starts on the AWS backend too (DynamoDB Local + moto;
//!                      also on when WHATIF_TEST_DYNAMODB_URL and WHATIF_TEST_MOTO_URL are set)
//!   --samples N        cold starts per function and backend (default 20)
//!   --iterations N     warm calls per route (default 20000)
//!   --duration SECS    load per route for rps, the timed window of load (default 10)
//!   --connections N    keep-alive connections for rps (default 64)
//!   --clients N        concurrent clients (accounts) for load (default 200)
//!   --server-bin PATH  load: spawn this whatif-local binary instead of serving in-process
//!   --crash            load: SIGKILL the spawned server right after the load (not a clean stop)
//!   --bin-dir DIR      where the release binaries are (default <target>/release)
//!   --compare-dir DIR  also cold-start the per-function binaries in DIR (a build of
//!                      the old layout: one binary per route), side by side
//!   --functions A,B    cold starts of these functions only (default: every route)
//!   --no-pin           do not pin cold-start children to one CPU
//!   --write            costs: write the table into docs/performance.md;
//!                      layout: write app/hot.ld (needs valgrind, --emulators and
//!                      `cargo build --profile profiling -p whatif-app --bin whatif-lambda`)
//! ```
//!
//! Cold starts run the one release binary every function deploys, as each
//! function (its `_HANDLER`): build it first with
//! `cargo build --release -p whatif-app --bin whatif-lambda` (and
//! `-p whatif-local` for the rps comparison with `wrk`).

mod cold;
mod costs;
mod engine;
mod history;
mod layout;
mod load;
mod login;
mod rps;
mod runtime_api;
mod sharing;
mod social;
mod store;
mod warm;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;
use whatif_shared::context::AppContext;
use whatif_shared::pipeline::dispatch;
use whatif_shared::routes::Route;

pub struct Options {
    pub emulators: bool,
    pub samples: usize,
    pub iterations: usize,
    pub duration: Duration,
    pub connections: usize,
    pub bin_dir: PathBuf,
    /// Also cold-start the per-function binaries found here (a build of the
    /// old one-binary-per-route layout), side by side with the one binary.
    pub compare_dir: Option<PathBuf>,
    /// Only these functions' cold starts (empty: every route).
    pub functions: Vec<String>,
    pub pin: bool,
    pub workspace: PathBuf,
    /// Concurrent clients of `load`, each on its own account.
    pub clients: usize,
    /// `load` spawns this `whatif-local` instead of serving in-process.
    pub server_bin: Option<PathBuf>,
    /// `load` kills the spawned server with SIGKILL after the load instead
    /// of stopping it, before it checks every write again.
    pub crash: bool,
    /// `costs` writes its table into docs/performance.md.
    pub write: bool,
}

/// One line of the summary table.
pub struct Row {
    pub measure: String,
    pub value: String,
    pub budget: String,
    /// None: informational, no budget.
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(measure: impl Into<String>, value: impl Into<String>, budget: &str, pass: Option<bool>) -> Self {
        Self { measure: measure.into(), value: value.into(), budget: budget.to_string(), pass }
    }
}

/// Order statistics of a sample, in the sample's unit.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub mean: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(values: &mut [f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Some(Self {
            n: values.len(),
            min: values[0],
            median: at(0.5),
            mean: values.iter().sum::<f64>() / values.len() as f64,
            p95: at(0.95),
            p99: at(0.99),
            max: values[values.len() - 1],
        })
    }
}

pub fn route(function: &str) -> Result<&'static Route, String> {
    whatif_local::routes().into_iter().find(|r| r.function == function).ok_or(format!("no route {function}"))
}

/// Sends `body` to `route` in-process as API Gateway would (its committed
/// event with this body, signed in with `token` when given); the status and
/// the JSON answer.
pub async fn call(
    ctx: &Arc<AppContext>,
    route: &'static Route,
    workspace: &std::path::Path,
    body: &str,
    token: Option<&str>,
) -> Result<(u16, Value), String> {
    let mut event: Value = serde_json::from_slice(&runtime_api::event(workspace, route))
        .map_err(|e| format!("events/{}.json does not parse: {e}", route.function))?;
    event["body"] = json!(body);
    if let Some(headers) = event["headers"].as_object_mut() {
        headers.insert("content-length".into(), json!(body.len().to_string()));
        headers.remove("idempotency-key");
        match token {
            Some(token) => headers.insert("authorization".into(), json!(format!("Bearer {token}"))),
            None => headers.remove("authorization"),
        };
    }
    let parsed: lambda_http::request::LambdaRequest =
        serde_json::from_slice(event.to_string().as_bytes()).map_err(|e| format!("the event does not parse: {e}"))?;
    let response = dispatch(ctx, route, http::Request::from(parsed)).await;
    let answer = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        lambda_http::Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        lambda_http::Body::Empty => Value::Null,
        _ => Value::Null,
    };
    Ok((response.status().as_u16(), answer))
}

fn usage() -> &'static str {
    "usage: whatif-bench [cold|warm|login|engine|history|rps|store|sharing|social|load|costs|layout|all] [--emulators] [--write] [--samples N] \
     [--iterations N] [--duration SECS] [--connections N] [--clients N] [--server-bin PATH] [--crash] \
     [--bin-dir DIR] [--compare-dir DIR] [--functions A,B] [--no-pin]"
}

fn parse_args() -> Result<(Vec<&'static str>, Options), String> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let mut options = Options {
        emulators: false,
        samples: 20,
        iterations: 20_000,
        duration: Duration::from_secs(10),
        connections: 64,
        bin_dir: target.join("release"),
        compare_dir: None,
        functions: Vec::new(),
        pin: true,
        workspace,
        clients: 200,
        server_bin: None,
        crash: false,
        write: false,
    };
    let mut command = "all".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<usize>().ok().filter(|n| *n > 0).ok_or(format!("{name}: {v:?} is not a positive number"))
        };
        match arg.as_str() {
            "--emulators" => options.emulators = true,
            "--no-pin" => options.pin = false,
            "--crash" => options.crash = true,
            "--write" => options.write = true,
            "--clients" => options.clients = number("--clients", value("--clients")?)?,
            "--server-bin" => options.server_bin = Some(PathBuf::from(value("--server-bin")?)),
            "--samples" => options.samples = number("--samples", value("--samples")?)?,
            "--iterations" => options.iterations = number("--iterations", value("--iterations")?)?,
            "--connections" => options.connections = number("--connections", value("--connections")?)?,
            "--duration" => options.duration = Duration::from_secs(number("--duration", value("--duration")?)? as u64),
            "--bin-dir" => options.bin_dir = PathBuf::from(value("--bin-dir")?),
            "--compare-dir" => options.compare_dir = Some(PathBuf::from(value("--compare-dir")?)),
            "--functions" => {
                options.functions = value("--functions")?.split(',').map(|f| f.trim().to_string()).collect()
            }
            "-h" | "--help" => return Err(usage().to_string()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}\n{}", usage())),
            other => command = other.to_string(),
        }
    }
    let commands = match command.as_str() {
        "all" => {
            vec!["cold", "warm", "login", "engine", "history", "rps", "store", "sharing", "social", "load", "costs"]
        }
        "cold" => vec!["cold"],
        "warm" => vec!["warm"],
        "login" => vec!["login"],
        "engine" => vec!["engine"],
        "history" => vec!["history"],
        "rps" => vec!["rps"],
        "store" => vec!["store"],
        "sharing" => vec!["sharing"],
        "social" => vec!["social"],
        "load" => vec!["load"],
        "costs" => vec!["costs"],
        "layout" => vec!["layout"],
        other => return Err(format!("unknown command {other:?}\n{}", usage())),
    };
    Ok((commands, options))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (commands, options) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        println!("WARNING: this is a debug build; figures only mean something with --release\n");
    }
    // The in-process server's log, when asked for (what a failed setup step said).
    if std::env::var_os("RUST_LOG").is_some() {
        whatif_shared::logging::init(false);
    }
    let mut rows = Vec::new();
    let mut failed = false;
    for command in commands {
        let result = match command {
            "cold" => cold::run(&options).await,
            "warm" => warm::run(&options).await,
            "login" => login::run(&options).await,
            "engine" => engine::run(&options).await,
            "history" => history::run(&options).await,
            "store" => store::run(&options).await,
            "sharing" => sharing::run(&options).await,
            "social" => social::run(&options).await,
            "load" => load::run(&options).await,
            "costs" => costs::run(&options).await,
            "layout" => layout::run(&options).await,
            _ => rps::run(&options).await,
        };
        match result {
            Ok(mut r) => rows.append(&mut r),
            Err(message) => {
                eprintln!("\n{command}: {message}");
                failed = true;
            }
        }
    }
    print_table(&rows);
    if failed || rows.iter().any(|r| r.pass == Some(false)) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!("\n## Summary\n");
    println!("| Measure | Value | Budget | Result |");
    println!("|---|---|---|---|");
    for row in rows {
        let result = match row.pass {
            Some(true) => "pass",
            Some(false) => "**FAIL**",
            None => "",
        };
        println!("| {} | {} | {} | {} |", row.measure, row.value, row.budget, result);
    }
}
