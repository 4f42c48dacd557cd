//! Sign-in's cost with the chosen Argon2id parameters, in-process on the
//! embedded backend: a whole `POST /api/auth/login` through the pipeline for
//! a right password, a wrong one and an unknown email (which must cost the
//! same, so nobody can tell which emails have accounts), and the memory the
//! hashing takes (the process's peak resident set before and after, with a
//! burst of sign-ins at once among them).

use std::time::{Duration, Instant};

use serde_json::json;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::ratelimit::RateLimits;

use crate::{Options, Row, Stats, call, route};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "correct horse 1";
/// Sign-ins per case: each is tens of milliseconds of hashing.
const SAMPLES: usize = 30;
/// Sign-ins sent at once, after the timed ones.
const BURST: usize = 64;

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let mut config = Config::embedded(dir.path().join("data"));
    // The benchmark signs in far more often than the auth class allows.
    config.rate_limits = RateLimits::parse("auth=1000000/1h")?;
    let ctx = AppContext::connect(config).await.map_err(|e| e.to_string())?;
    let register = route("auth-register")?;
    let login = route("auth-login")?;
    let hwm_before = peak_rss_kb();

    let body = json!({"email": EMAIL, "password": PASSWORD}).to_string();
    let started = Instant::now();
    let status = call(&ctx, register, &options.workspace, &body, None).await?.0;
    let register_ms = ms(started.elapsed());
    if status != 201 {
        return Err(format!("auth-register answered {status}"));
    }

    println!("\n== login: {SAMPLES} sign-ins per case, in-process, embedded backend, Argon2id m=19 MiB t=2 p=1");
    println!("   {:<28} {:>9} {:>9} {:>9} {:>9}", "ms per sign-in", "min", "median", "p95", "max");
    let mut rows =
        vec![Row::new("register (one Argon2id hash + account items)", format!("{register_ms:.1} ms"), "", None)];
    let cases = [
        ("right password", EMAIL, PASSWORD, 200),
        // Four wrong passwords in a row would lock the account at the fifth,
        // so the right one in between clears the count (as a user would).
        ("wrong password", EMAIL, "wrong horse 1", 401),
        ("unknown email", "nobody@example.com", PASSWORD, 401),
    ];
    let mut medians = Vec::new();
    for (label, email, password, expected) in cases {
        let body = json!({"email": email, "password": password}).to_string();
        let ok_body = json!({"email": EMAIL, "password": PASSWORD}).to_string();
        let mut times = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES + 2 {
            let started = Instant::now();
            let status = call(&ctx, login, &options.workspace, &body, None).await?.0;
            let elapsed = started.elapsed();
            if status != expected {
                return Err(format!("{label}: auth-login answered {status}, expected {expected}"));
            }
            if i >= 2 {
                times.push(ms(elapsed)); // the first two warm the pool and caches
            }
            if expected != 200 && email == EMAIL {
                call(&ctx, login, &options.workspace, &ok_body, None).await?;
            }
        }
        let s = Stats::of(&mut times).ok_or("no samples")?;
        println!("   {label:<28} {:>9.1} {:>9.1} {:>9.1} {:>9.1}", s.min, s.median, s.p95, s.max);
        rows.push(Row::new(
            format!("login, {label}"),
            format!("{:.1} ms median (p95 {:.1})", s.median, s.p95),
            "",
            None,
        ));
        medians.push(s.median);
    }
    // Unknown email against a wrong password: the same work, so within a few percent.
    let (wrong, unknown) = (medians[1], medians[2]);
    let gap = (unknown - wrong).abs() / wrong.max(f64::EPSILON) * 100.0;
    rows.push(Row::new(
        "login: unknown email vs wrong password",
        format!("{gap:.1} % apart"),
        "≤ 10 %",
        Some(gap <= 10.0),
    ));
    // A burst, as a flood of sign-ins to a long-running server would be: the
    // hashes queue on one thread per CPU, so memory must not grow with it.
    let hwm_sequential = peak_rss_kb();
    let burst_started = Instant::now();
    let ok_body = json!({"email": EMAIL, "password": PASSWORD}).to_string();
    let burst = (0..BURST).map(|_| {
        let (ctx, body, workspace) = (ctx.clone(), ok_body.clone(), options.workspace.clone());
        tokio::spawn(async move { call(&ctx, login, &workspace, &body, None).await.map(|answer| answer.0) })
    });
    for answer in futures::future::join_all(burst).await {
        match answer {
            Ok(Ok(200)) => {}
            other => return Err(format!("a sign-in of the burst answered {other:?}")),
        }
    }
    let burst_ms = ms(burst_started.elapsed());
    println!("   {BURST} sign-ins at once: all answered in {burst_ms:.0} ms");
    rows.push(Row::new(format!("login: {BURST} sign-ins at once"), format!("{burst_ms:.0} ms for all"), "", None));
    if let (Some(before), Some(after)) = (hwm_before, peak_rss_kb()) {
        let grew = (after - before) / 1024.0;
        println!(
            "   peak resident set: {:.1} MiB before the first hash, {:.1} MiB after the sequential ones, {:.1} MiB after the burst",
            before / 1024.0,
            hwm_sequential.unwrap_or(after) / 1024.0,
            after / 1024.0
        );
        rows.push(Row::new("login: peak memory added by hashing", format!("{grew:.1} MiB"), "", None));
    }
    Ok(rows)
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
