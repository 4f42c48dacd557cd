//! Many clients at once against the local server on the embedded store
//! (default 200): each registers its own account, then, until the time is
//! up, mixes sign-ins, generations (the offline provider), edits, lists,
//! gets and stats back to back. Every request's status and latency is
//! recorded; an error is any answer but the expected one (5xx, 4xx, a
//! `saved: false`) or no answer at all.
//!
//! What was answered 2xx must be there: each client keeps the scenarios it
//! created and the last edit of each, and checks as it goes (a get shows
//! the last edit's version, a list's and the stats' totals are what it
//! created) and once the load is over: every scenario exists with its last
//! edit, in the scenario and in its list entry, the list pages hold exactly
//! the scenarios it created, the stats count them and average their ratings.
//! Then the server is stopped cleanly, started again on the same data
//! folder, every client signs in again and everything is checked once more.
//!
//! With `--crash` the server is killed with SIGKILL when the time is up,
//! with every client's last request in flight (those requests, cut by the
//! kill, are counted apart, not as errors: their writes may or may not have
//! landed, and the checks allow either), and checked after its restart
//! only: every write answered 2xx before the kill must have survived it.
//!
//! The server runs in this process (`whatif_local::bind`), or is a
//! `whatif-local` binary spawned with `--server-bin PATH` (to compare
//! builds, e.g. before and after group commit; its log is scanned for
//! errors). Rate limits are raised far above the load: they are not what
//! is measured.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::ratelimit::RateLimits;

use crate::{Options, Row, Stats};

/// Every class far above what the load can send (`WHATIF_RATE_LIMITS`).
const LIMITS: &str = "general=100000000/1h,auth=100000000/1h,password-reset=100000000/1h,\
                      generate=100000000/1h,media=100000000/1h,write-social=100000000/1h";
/// Each account's monthly credits (`WHATIF_FREE_MONTHLY_CREDITS`): far above
/// what one client's generations spend, so credits never end the run either.
const ALLOWANCE: i64 = 1_000_000;
const PASSWORD: &str = "correct horse 1";
/// A request with no answer by then is an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Failure messages kept per client (all are counted).
const KEPT_FAILURES: usize = 5;
/// Why a request sent before a `--crash` kill got no answer.
const CUT: &str = "no answer: the server was killed";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Register,
    SignIn,
    Generate,
    Edit,
    List,
    Get,
    Stats,
}

const OPS: [Op; 7] = [Op::Register, Op::SignIn, Op::Generate, Op::Edit, Op::List, Op::Get, Op::Stats];

/// The mix of the timed window, in percent. A sign-in is one Argon2id
/// verification (about 30 ms of a core), so it is kept to what a user does:
/// one in fifty requests.
const MIX: [(Op, u64); 6] =
    [(Op::SignIn, 2), (Op::Generate, 20), (Op::Edit, 30), (Op::List, 20), (Op::Get, 23), (Op::Stats, 5)];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Register => "register",
            Op::SignIn => "sign-in",
            Op::Generate => "generate",
            Op::Edit => "edit",
            Op::List => "list",
            Op::Get => "get",
            Op::Stats => "stats",
        }
    }

    fn route(self) -> &'static str {
        match self {
            Op::Register => "POST /api/auth/register",
            Op::SignIn => "POST /api/auth/login",
            Op::Generate => "POST /api/generate",
            Op::Edit => "PATCH /api/scenarios/{id}",
            Op::List => "GET /api/scenarios/my",
            Op::Get => "GET /api/scenarios/{id}",
            Op::Stats => "GET /api/scenarios/stats",
        }
    }

    fn index(self) -> usize {
        OPS.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// One operation's requests: latencies (ms) of the answered ones, errors.
#[derive(Default, Clone)]
struct Tally {
    latencies: Vec<f64>,
    /// Requests sent, answered or not.
    sent: usize,
    errors: usize,
    /// Requests without an answer because the server was killed (`--crash`).
    cut: usize,
}

/// A scenario a client created (answered 200, saved), as last answered.
struct Owned {
    id: String,
    version: u64,
    rating: Option<u64>,
    tags: Vec<String>,
    /// An edit of it failed without a clear answer: it may have landed, so
    /// its state is unknown (only its existence is checked).
    unsure: bool,
}

/// What a client found wrong in the server's state.
#[derive(Default, Clone)]
struct Check {
    accounts: usize,
    scenarios: usize,
    /// Accounts that could not sign in again after the restart.
    lost_accounts: usize,
    /// Scenarios answered 200 (saved) that are not there.
    lost_creates: usize,
    /// Scenarios (or their list entries) without their last answered edit.
    lost_edits: usize,
    /// A list's or the stats' total other than the scenarios created, or a
    /// list page without one of them.
    wrong_counts: usize,
    /// Requests of the check itself that failed.
    errors: usize,
    notes: Vec<String>,
}

impl Check {
    fn lost(&self) -> usize {
        self.lost_accounts + self.lost_creates + self.lost_edits + self.wrong_counts
    }

    fn note(&mut self, note: String) {
        if self.notes.len() < KEPT_FAILURES {
            self.notes.push(note);
        }
    }

    fn add(&mut self, other: Check) {
        self.accounts += other.accounts;
        self.scenarios += other.scenarios;
        self.lost_accounts += other.lost_accounts;
        self.lost_creates += other.lost_creates;
        self.lost_edits += other.lost_edits;
        self.wrong_counts += other.wrong_counts;
        self.errors += other.errors;
        for note in other.notes {
            if self.notes.len() < 4 * KEPT_FAILURES {
                self.notes.push(note);
            }
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} accounts, {} scenarios: lost accounts {}, lost creates {}, lost edits {}, wrong counts {}, failed checks {}",
            self.accounts,
            self.scenarios,
            self.lost_accounts,
            self.lost_creates,
            self.lost_edits,
            self.wrong_counts,
            self.errors
        )
    }
}

struct Client {
    n: usize,
    http: reqwest::Client,
    base: String,
    email: String,
    token: String,
    rng: u64,
    owned: Vec<Owned>,
    /// Generations that failed without a clear answer (may have been saved).
    unsure_creates: usize,
    /// Edits answered 200.
    edits: usize,
    tally: Vec<Tally>,
    /// During the load: a get, list or stats that did not show what this
    /// client had been answered before (read-your-writes).
    stale: Check,
    failures: Vec<String>,
    /// Set when the server is killed (`--crash`).
    killed: Arc<AtomicBool>,
}

/// The server under load: in this process, or a spawned binary (killed
/// when dropped, should the run end early).
enum Server {
    InProcess {
        addr: SocketAddr,
        stop: Option<oneshot::Sender<()>>,
        done: Option<tokio::task::JoinHandle<()>>,
        ctx: Weak<AppContext>,
    },
    Spawned {
        addr: SocketAddr,
        child: Child,
    },
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Spawned { child, .. } = self
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    if options.crash && options.server_bin.is_none() {
        return Err("--crash needs --server-bin (a SIGKILL of a separate process)".into());
    }
    let (clients, duration) = (options.clients, options.duration);
    let mix: Vec<String> = MIX.iter().map(|(op, p)| format!("{} {p} %", op.name())).collect();
    println!(
        "\n== load: {clients} clients for {} s, each on its own account, back to back: {}",
        duration.as_secs(),
        mix.join(", ")
    );
    // Next to the build, not in a tmpfs /tmp: a sync must reach a disk to count.
    let dir = tempfile::tempdir_in(std::env::current_dir().map_err(|e| e.to_string())?)
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let server = Server::start(options, &data, &log).await?;
    println!(
        "   server: {}, embedded store in {}; rate limits raised; client and server share this machine's {} CPUs",
        match &options.server_bin {
            Some(bin) => format!("{} (spawned)", bin.display()),
            None => "in this process".into(),
        },
        data.display(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let base = format!("http://{}", server.addr());
    let mut rows = Vec::new();

    // Accounts, all at once (not in the timed window).
    let killed = Arc::new(AtomicBool::new(false));
    let mut all = Vec::with_capacity(clients);
    for n in 0..clients {
        all.push(Client::new(n, &base, killed.clone())?);
    }
    let started = Instant::now();
    let mut all = each(all, |mut c| async move {
        c.register().await;
        c
    })
    .await?;
    let registering = started.elapsed();
    let registered = all.iter().filter(|c| !c.token.is_empty()).count();
    println!("   {registered} of {clients} accounts registered at once in {:.1} s", registering.as_secs_f64());
    if registered < clients {
        print_failures(&all);
        return Err(format!("only {registered} of {clients} accounts registered"));
    }
    for c in &mut all {
        c.tally = vec![Tally::default(); OPS.len()];
    }

    // The timed window.
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let cpu_before = Cpu::now(server.pid());
    let clients_done = each(all, move |mut c| async move {
        while Instant::now() < deadline {
            c.step().await;
        }
        c
    });
    // With --crash, SIGKILL at the deadline, each client's last request in flight.
    let mut server = Some(server);
    let killer = async {
        if !options.crash {
            return Ok(None);
        }
        tokio::time::sleep_until(deadline.into()).await;
        let cpu = Cpu::now(server.as_ref().and_then(Server::pid));
        killed.store(true, Ordering::SeqCst);
        if let Some(server) = server.take() {
            server.stop(true).await?;
        }
        Ok::<_, String>(Some((cpu, started.elapsed().as_secs_f64())))
    };
    let (all, at_kill) = tokio::join!(clients_done, killer);
    let (all, at_kill) = (all?, at_kill?);
    let (elapsed, cpu_after) = match at_kill {
        Some((cpu, at)) => (at, cpu),
        None => (started.elapsed().as_secs_f64(), Cpu::now(server.as_ref().and_then(Server::pid))),
    };
    rows.extend(report(&all, elapsed));
    let requests: usize = all.iter().flat_map(|c| &c.tally).map(|t| t.sent - t.cut).sum();
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        rows.push(before.report(&after, elapsed, requests));
    }
    let stale = all.iter().fold(Check::default(), |mut sum, c| {
        sum.add(c.stale.clone());
        sum
    });
    let acked_edits: usize = all.iter().map(|c| c.edits).sum();
    println!(
        "   during the load: {} reads did not show an earlier answered write (stale gets, wrong list or stats totals)",
        stale.lost()
    );
    for note in &stale.notes {
        println!("     {note}");
    }

    // The checks: live (unless the server is to be killed at once), then
    // after a stop and a start on the same folder.
    let mut all = all;
    let mut checks = Vec::new();
    if !options.crash {
        let (checked, live) = check_all(all, false).await?;
        all = checked;
        println!("   checked live: {}", live.summary());
        checks.push(("live", live));
    }
    let how = if options.crash { "after SIGKILL and a restart" } else { "after a clean stop and a restart" };
    // New connections after the restart: the old ones close now, so an
    // in-process server's connection tasks let go of its store.
    for c in &mut all {
        c.http = http_client()?;
    }
    if let Some(server) = server.take() {
        server.stop(false).await?;
    }
    let server = Server::start(options, &data, &log).await?;
    let base = format!("http://{}", server.addr());
    for c in &mut all {
        c.base.clone_from(&base);
    }
    let (_, restarted) = check_all(all, true).await?;
    println!("   checked {how}: {}", restarted.summary());
    checks.push((how, restarted));
    server.stop(false).await?;

    let log_errors = if options.server_bin.is_some() { scan_log(&log) } else { 0 };
    for (when, check) in &checks {
        for note in &check.notes {
            println!("     {when}: {note}");
        }
        rows.push(Row::new(
            format!("load: lost writes, {when} ({acked_edits} edits answered)"),
            check.summary(),
            "0 lost, counts exact",
            Some(check.lost() == 0 && check.errors == 0),
        ));
    }
    rows.push(Row::new(
        "load: reads during the load that missed an answered write",
        stale.lost().to_string(),
        "0",
        Some(stale.lost() == 0),
    ));
    if options.server_bin.is_some() {
        rows.push(Row::new(
            "load: ERROR lines in the server's log",
            log_errors.to_string(),
            "0",
            Some(log_errors == 0),
        ));
    }
    Ok(rows)
}

/// Runs `f` on every client at once (a task each); the clients back.
async fn each<F, Fut>(clients: Vec<Client>, f: F) -> Result<Vec<Client>, String>
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = Client> + Send + 'static,
{
    let tasks: Vec<_> = clients.into_iter().map(|c| tokio::spawn(f(c))).collect();
    let mut back = Vec::with_capacity(tasks.len());
    for task in tasks {
        back.push(task.await.map_err(|e| format!("a client task failed: {e}"))?);
    }
    Ok(back)
}

/// Every client checks its state (signing in again first when `sign_in`).
async fn check_all(clients: Vec<Client>, sign_in: bool) -> Result<(Vec<Client>, Check), String> {
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let check = c.check(sign_in).await;
                (c, check)
            })
        })
        .collect();
    let (mut back, mut sum) = (Vec::new(), Check::default());
    for task in tasks {
        let (c, check) = task.await.map_err(|e| format!("a client's check failed: {e}"))?;
        sum.add(check);
        back.push(c);
    }
    Ok((back, sum))
}

/// Prints the table of the timed window; its rows.
fn report(clients: &[Client], elapsed: f64) -> Vec<Row> {
    let mut rows = Vec::new();
    println!(
        "   {:<10} {:<27} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "operation", "route", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    let mut total = Tally::default();
    for op in OPS {
        let mut tally = Tally::default();
        for c in clients {
            let t = &c.tally[op.index()];
            tally.latencies.extend_from_slice(&t.latencies);
            tally.sent += t.sent;
            tally.errors += t.errors;
            tally.cut += t.cut;
        }
        if op == Op::Register || tally.sent == 0 {
            continue;
        }
        total.latencies.extend_from_slice(&tally.latencies);
        total.sent += tally.sent;
        total.errors += tally.errors;
        total.cut += tally.cut;
        if let Some(row) = line(op.name(), op.route(), &mut tally, elapsed) {
            rows.push(row);
        }
    }
    if let Some(mut row) = line("all", "", &mut total, elapsed) {
        row.budget = "0 errors".into();
        row.pass = Some(total.errors == 0);
        rows.push(row);
    }
    if total.cut > 0 {
        println!("   {} requests were in flight at the kill: no answer, not counted above", total.cut);
    }
    print_failures(clients);
    rows
}

/// One operation's line: requests sent and not cut by a kill (answered, or errors).
fn line(name: &str, route: &str, tally: &mut Tally, elapsed: f64) -> Option<Row> {
    let requests = tally.sent - tally.cut;
    let rps = requests as f64 / elapsed;
    let s = Stats::of(&mut tally.latencies)?;
    println!(
        "   {name:<10} {route:<27} {:>9} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7}",
        requests, rps, s.median, s.p95, s.p99, s.max, tally.errors
    );
    Some(Row::new(
        format!("load: {name}"),
        format!(
            "{rps:.0} req/s, p50 {:.1} ms, p99 {:.1} ms ({} requests, {} errors)",
            s.median, s.p99, requests, tally.errors
        ),
        "",
        None,
    ))
}

fn print_failures(clients: &[Client]) {
    let failures: Vec<&String> = clients.iter().flat_map(|c| &c.failures).collect();
    if failures.is_empty() {
        return;
    }
    println!("   failures (first {} of the kept ones):", failures.len().min(20));
    for failure in failures.iter().take(20) {
        println!("     {failure}");
    }
}

impl Client {
    fn new(n: usize, base: &str, killed: Arc<AtomicBool>) -> Result<Self, String> {
        Ok(Self {
            n,
            http: http_client()?,
            base: base.to_string(),
            email: format!("load-{n}@example.com"),
            token: String::new(),
            rng: (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            owned: Vec::new(),
            unsure_creates: 0,
            edits: 0,
            tally: vec![Tally::default(); OPS.len()],
            stale: Check::default(),
            failures: Vec::new(),
            killed,
        })
    }

    /// xorshift64*: the mix and the edits, the same on every run.
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn fail(&mut self, op: Op, message: String) {
        if message == CUT {
            self.tally[op.index()].cut += 1;
            return;
        }
        self.tally[op.index()].errors += 1;
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(format!("client {}: {}: {message}", self.n, op.route()));
        }
    }

    /// One request, timed: the status and the JSON answer, or why none came.
    async fn send(&mut self, op: Op, request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
        let started = Instant::now();
        let answer = async {
            let response = request.send().await.map_err(|e| describe(&e))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| describe(&e))?;
            Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
        }
        .await
        .map_err(|e| if self.killed.load(Ordering::SeqCst) { CUT.to_string() } else { e });
        let tally = &mut self.tally[op.index()];
        tally.sent += 1;
        if answer.is_ok() {
            tally.latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        answer
    }

    /// A request expecting `expected`: the answer's `data`, or None (counted as an error).
    async fn expect(&mut self, op: Op, request: reqwest::RequestBuilder, expected: u16) -> Option<Value> {
        match self.send(op, request).await {
            Ok((status, body)) if status == expected => Some(body["data"].clone()),
            Ok((status, body)) => {
                self.fail(op, format!("{status} {}", snippet(&body)));
                None
            }
            Err(e) => {
                self.fail(op, e);
                None
            }
        }
    }

    async fn register(&mut self) {
        let request =
            self.http.post(self.url("/api/auth/register")).json(&json!({"email": self.email, "password": PASSWORD}));
        if let Some(data) = self.expect(Op::Register, request, 201).await {
            self.token = data["accessToken"].as_str().unwrap_or_default().to_string();
        }
    }

    async fn sign_in(&mut self) -> bool {
        let request =
            self.http.post(self.url("/api/auth/login")).json(&json!({"email": self.email, "password": PASSWORD}));
        match self.expect(Op::SignIn, request, 200).await.and_then(|d| d["accessToken"].as_str().map(String::from)) {
            Some(token) => {
                self.token = token;
                true
            }
            None => false,
        }
    }

    /// One request of the mix.
    async fn step(&mut self) {
        let mut pick = self.random() % 100;
        let mut op = Op::Generate;
        for (o, share) in MIX {
            if pick < share {
                op = o;
                break;
            }
            pick -= share;
        }
        let editable = self.owned.iter().any(|o| !o.unsure);
        match op {
            Op::SignIn => {
                self.sign_in().await;
            }
            Op::Edit if editable => self.edit().await,
            Op::Get if !self.owned.is_empty() => self.get().await,
            Op::List => self.list().await,
            Op::Stats => self.stats().await,
            _ => self.generate().await,
        }
    }

    async fn generate(&mut self) {
        let k = self.owned.len() + self.unsure_creates;
        let topic = format!("What if the town of client {} had built bridge number {k} across its river?", self.n);
        let request = self.http.post(self.url("/api/generate")).bearer_auth(&self.token).json(&json!({"topic": topic}));
        match self.send(Op::Generate, request).await {
            Ok((200, body)) => {
                let scenario = &body["data"]["scenario"];
                match (body["data"]["saved"].as_bool(), scenario["id"].as_str()) {
                    (Some(true), Some(id)) => self.owned.push(Owned {
                        id: id.to_string(),
                        version: scenario["version"].as_u64().unwrap_or(0),
                        rating: scenario["rating"].as_u64(),
                        tags: tags(scenario),
                        unsure: false,
                    }),
                    _ => self.fail(Op::Generate, format!("200 but not saved: {}", snippet(&body))),
                }
            }
            Ok((status, body)) => {
                // A 5xx may come after the save.
                if status >= 500 {
                    self.unsure_creates += 1;
                }
                self.fail(Op::Generate, format!("{status} {}", snippet(&body)));
            }
            Err(e) => {
                self.unsure_creates += 1;
                self.fail(Op::Generate, e);
            }
        }
    }

    /// Rates and tags one of its scenarios, based on the version it was last answered.
    async fn edit(&mut self) {
        let editable: Vec<usize> = (0..self.owned.len()).filter(|i| !self.owned[*i].unsure).collect();
        let i = editable[self.random() as usize % editable.len()];
        let rating = 1 + self.random() % 5;
        let set = format!("set{}", self.random() % 4);
        let (id, version) = (self.owned[i].id.clone(), self.owned[i].version);
        let request = self
            .http
            .patch(self.url(&format!("/api/scenarios/{id}")))
            .bearer_auth(&self.token)
            .json(&json!({"rating": rating, "tags": ["load", set], "version": version}));
        match self.send(Op::Edit, request).await {
            Ok((200, body)) => {
                let scenario = scenario(&body["data"]);
                let owned = &mut self.owned[i];
                owned.version = scenario["version"].as_u64().unwrap_or(0);
                owned.rating = scenario["rating"].as_u64();
                owned.tags = tags(scenario);
                self.edits += 1;
                if owned.rating != Some(rating) || owned.version != version + 1 {
                    let message = format!(
                        "200 for rating {rating} on version {version}, answered rating {:?} version {}",
                        owned.rating, owned.version
                    );
                    self.fail(Op::Edit, message);
                }
            }
            Ok((status, body)) => {
                if status >= 500 {
                    self.owned[i].unsure = true;
                }
                self.fail(Op::Edit, format!("{status} {}", snippet(&body)));
            }
            Err(e) => {
                self.owned[i].unsure = true;
                self.fail(Op::Edit, e);
            }
        }
    }

    async fn get(&mut self) {
        let i = self.random() as usize % self.owned.len();
        let id = self.owned[i].id.clone();
        let request = self.http.get(self.url(&format!("/api/scenarios/{id}"))).bearer_auth(&self.token);
        if let Some(data) = self.expect(Op::Get, request, 200).await {
            let shown = scenario(&data)["version"].as_u64();
            let owned = &self.owned[i];
            if !owned.unsure && shown != Some(owned.version) {
                let note = format!("client {}: get {id}: version {shown:?}, answered {} before", self.n, owned.version);
                self.stale.lost_edits += 1;
                self.stale.note(note);
            }
        }
    }

    async fn list(&mut self) {
        let request = self.http.get(self.url("/api/scenarios/my?limit=20")).bearer_auth(&self.token);
        if let Some(data) = self.expect(Op::List, request, 200).await {
            let total = data["pagination"]["total"].as_u64();
            self.count_is_right("list total", total, true);
        }
    }

    async fn stats(&mut self) {
        let request = self.http.get(self.url("/api/scenarios/stats")).bearer_auth(&self.token);
        if let Some(data) = self.expect(Op::Stats, request, 200).await {
            let total = stats(&data)["totalScenarios"].as_u64();
            self.count_is_right("stats totalScenarios", total, true);
        }
    }

    /// Whether `total` is the number of scenarios created (give or take the unsure ones).
    fn count_is_right(&mut self, what: &str, total: Option<u64>, during_load: bool) -> bool {
        let created = self.owned.len() as u64;
        let right = total.is_some_and(|t| (created..=created + self.unsure_creates as u64).contains(&t));
        if !right && during_load {
            self.stale.wrong_counts += 1;
            let note = format!("client {}: {what} {total:?}, {created} created", self.n);
            self.stale.note(note);
        }
        right
    }

    /// The whole state, against what was answered (after signing in again when `sign_in`).
    async fn check(&mut self, sign_in: bool) -> Check {
        let mut check = Check { accounts: 1, scenarios: self.owned.len(), ..Check::default() };
        if sign_in && !self.sign_in().await {
            check.lost_accounts += 1;
            check.note(format!("client {}: cannot sign in again: {:?}", self.n, self.failures.last()));
            return check;
        }
        // Every page of the list.
        let mut listed: HashMap<String, Value> = HashMap::new();
        let mut total = None;
        for page in 1.. {
            let url = self.url(&format!("/api/scenarios/my?limit=100&page={page}"));
            let answer = self.send(Op::List, self.http.get(url).bearer_auth(&self.token)).await;
            let data = match answer {
                Ok((200, body)) => body["data"].clone(),
                other => {
                    check.errors += 1;
                    check.note(format!("client {}: list page {page}: {}", self.n, outcome(&other)));
                    break;
                }
            };
            total = data["pagination"]["total"].as_u64();
            for s in data["scenarios"].as_array().into_iter().flatten() {
                if let Some(id) = s["id"].as_str() {
                    listed.insert(id.to_string(), s.clone());
                }
            }
            if data["pagination"]["hasNext"].as_bool() != Some(true) || page > 10_000 {
                break;
            }
        }
        if !self.count_is_right("list", total, false) || listed.len() as u64 != total.unwrap_or(0) {
            check.wrong_counts += 1;
            check.note(format!(
                "client {}: list total {total:?}, {} listed, {} created",
                self.n,
                listed.len(),
                self.owned.len()
            ));
        }
        // The stats.
        let answer =
            self.send(Op::Stats, self.http.get(self.url("/api/scenarios/stats")).bearer_auth(&self.token)).await;
        match answer {
            Ok((200, body)) => {
                let stats = stats(&body["data"]).clone();
                let total = stats["totalScenarios"].as_u64();
                let exact = self.unsure_creates == 0 && self.owned.iter().all(|o| !o.unsure);
                let ratings: Vec<u64> = self.owned.iter().filter_map(|o| o.rating).collect();
                let average = (!ratings.is_empty())
                    .then(|| (ratings.iter().sum::<u64>() as f64 / ratings.len() as f64 * 100.0).round() / 100.0);
                let shown = stats["averageRating"].as_f64();
                let average_right = !exact
                    || match (average, shown) {
                        (Some(a), Some(s)) => (a - s).abs() < 0.006,
                        (None, None) => true,
                        _ => false,
                    };
                if !self.count_is_right("stats", total, false) || !average_right {
                    check.wrong_counts += 1;
                    check.note(format!(
                        "client {}: stats total {total:?} average {shown:?}, {} created, average {average:?}",
                        self.n,
                        self.owned.len()
                    ));
                }
            }
            other => {
                check.errors += 1;
                check.note(format!("client {}: stats: {}", self.n, outcome(&other)));
            }
        }
        // Every scenario, and its list entry.
        for i in 0..self.owned.len() {
            let id = self.owned[i].id.clone();
            let answer = self
                .send(Op::Get, self.http.get(self.url(&format!("/api/scenarios/{id}"))).bearer_auth(&self.token))
                .await;
            let owned = &self.owned[i];
            match answer {
                Ok((200, body)) => {
                    let shown = scenario(&body["data"]);
                    let entry = listed.get(&id);
                    let matches = |s: &Value| {
                        s["version"].as_u64() == Some(owned.version)
                            && s["rating"].as_u64() == owned.rating
                            && tags(s) == owned.tags
                    };
                    if !owned.unsure && (!matches(shown) || !entry.is_some_and(matches)) {
                        check.lost_edits += 1;
                        check.note(format!(
                            "client {}: {id}: answered version {} rating {:?} tags {:?}; the scenario shows {} {} {}, its list entry {:?}",
                            self.n,
                            owned.version,
                            owned.rating,
                            owned.tags,
                            shown["version"],
                            shown["rating"],
                            shown["tags"],
                            entry.map(|e| (e["version"].clone(), e["rating"].clone(), e["tags"].clone()))
                        ));
                    }
                }
                Ok((404, _)) => {
                    check.lost_creates += 1;
                    check.note(format!("client {}: {id} was answered 200 (saved) and is gone", self.n));
                }
                other => {
                    check.errors += 1;
                    check.note(format!("client {}: get {id}: {}", self.n, outcome(&other)));
                }
            }
        }
        check
    }
}

impl Server {
    async fn start(options: &Options, data: &Path, log: &Path) -> Result<Self, String> {
        let Some(bin) = &options.server_bin else {
            let mut config = Config::embedded(data.to_path_buf());
            config.host = "127.0.0.1".into();
            config.port = 0;
            config.rate_limits = RateLimits::parse(LIMITS)?;
            config.billing.free_monthly = ALLOWANCE;
            // The last holder of a stopped server's context may still be
            // closing its database (its file lock) when the count reaches 0.
            let started = Instant::now();
            let server = loop {
                match whatif_local::bind(config.clone()).await {
                    Ok(server) => break server,
                    Err(e) if e.to_string().contains("already open") && started.elapsed() < Duration::from_secs(10) => {
                        tokio::time::sleep(Duration::from_millis(20)).await
                    }
                    Err(e) => return Err(e.to_string()),
                }
            };
            let (addr, ctx) = (server.addr, Arc::downgrade(&server.ctx));
            let (stop, stopped) = oneshot::channel::<()>();
            let done = tokio::spawn(server.run(async {
                let _ = stopped.await;
            }));
            return Ok(Server::InProcess { addr, stop: Some(stop), done: Some(done), ctx });
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let errors = output.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(bin)
            .arg("serve")
            .env_remove("RUST_LOG")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("WHATIF_BACKEND", "embedded")
            .env("WHATIF_DATA_DIR", data)
            .env("WHATIF_RATE_LIMITS", LIMITS)
            .env("WHATIF_FREE_MONTHLY_CREDITS", ALLOWANCE.to_string())
            .env("WHATIF_MODEL_PROVIDERS", "offline")
            .env("WHATIF_LOG_FORMAT", "text")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if TcpStream::connect(addr).await.is_ok() {
                return Ok(Server::Spawned { addr, child });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{} exited ({status}) at start; its log: {}", bin.display(), log.display()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("{} did not listen on {addr} within 30 s", bin.display()))
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Server::InProcess { .. } => None,
            Server::Spawned { child, .. } => Some(child.id()),
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Server::InProcess { addr, .. } | Server::Spawned { addr, .. } => *addr,
        }
    }

    /// Stops the server: cleanly (it finishes its jobs and flushes), or
    /// with SIGKILL when `kill` (a spawned one only). Returns once the data
    /// folder may be opened again.
    async fn stop(mut self, kill: bool) -> Result<(), String> {
        match &mut self {
            Server::InProcess { stop, done, ctx, .. } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(done) = done.take() {
                    done.await.map_err(|e| format!("the server task failed: {e}"))?;
                }
                // Connection tasks hold the context until their sockets close
                // (the clients' were closed before the stop).
                let started = Instant::now();
                while ctx.strong_count() > 0 {
                    if started.elapsed() > Duration::from_secs(30) {
                        return Err("the stopped server's store is still open after 30 s".into());
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Ok(())
            }
            Server::Spawned { child, .. } => {
                if kill {
                    child.kill().map_err(|e| format!("cannot kill the server: {e}"))?;
                    child.wait().map_err(|e| e.to_string())?;
                    return Ok(());
                }
                // Ctrl-C, which whatif-local stops on.
                let status = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status()
                    .map_err(|e| format!("cannot run kill: {e}"))?;
                if !status.success() {
                    return Err(format!("kill -INT {} failed", child.id()));
                }
                let started = Instant::now();
                loop {
                    match child.try_wait() {
                        Ok(Some(status)) if status.success() => return Ok(()),
                        Ok(Some(status)) => return Err(format!("the server stopped with {status}")),
                        Ok(None) if started.elapsed() > Duration::from_secs(60) => {
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err("the server did not stop within 60 s of SIGINT".into());
                        }
                        Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
        }
    }
}

/// CPU time from /proc (Linux), in clock ticks: the machine's (busy and
/// all, over every CPU), this process's and the spawned server's.
struct Cpu {
    machine_busy: u64,
    machine_all: u64,
    me: u64,
    server: Option<u64>,
}

impl Cpu {
    fn now(server: Option<u32>) -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal
        let all: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3)? + ticks.get(4)?;
        let process = |pid: &str| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        };
        Some(Self {
            machine_busy: all - idle,
            machine_all: all,
            me: process("self")?,
            server: server.and_then(|pid| process(&pid.to_string())),
        })
    }

    /// How busy the CPUs were over the window (`elapsed` s, `requests` sent), and with what.
    fn report(&self, after: &Cpu, elapsed: f64, requests: usize) -> Row {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        let all = after.machine_all.saturating_sub(self.machine_all).max(1) as f64;
        // Percent of one CPU.
        let share = |ticks: u64| ticks as f64 / all * cpus * 100.0;
        let busy = share(after.machine_busy.saturating_sub(self.machine_busy));
        let me = share(after.me.saturating_sub(self.me));
        let mut value = format!("machine {busy:.0} % of {cpus:.0} CPUs, this process {me:.0} %");
        if let (Some(before), Some(now)) = (self.server, after.server) {
            let server = share(now.saturating_sub(before));
            // CPU seconds: the share of one CPU times the window.
            let per_request = server / 100.0 * elapsed * 1000.0 / requests.max(1) as f64;
            value.push_str(&format!(
                ", the server {server:.0} % ({per_request:.2} ms of CPU per request), other processes {:.0} %",
                busy - me - server
            ));
        } else {
            value.push_str(&format!(", other processes {:.0} %", busy - me));
        }
        println!("   CPU over the window: {value}");
        Row::new("load: CPU over the window (100 % = one CPU)", value, "", None)
    }
}

/// A client's own connection pool (its keep-alive connection).
fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// Counts the ERROR lines of the server's log and prints the first few.
fn scan_log(log: &Path) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(" ERROR ")).collect();
    let warnings = text.lines().filter(|l| l.contains(" WARN ")).count();
    println!("   server log: {} lines, {} ERROR, {warnings} WARN", text.lines().count(), errors.len());
    for line in errors.iter().take(5) {
        println!("     {}", line.chars().take(300).collect::<String>());
    }
    errors.len()
}

/// The scenario of an answer: `{scenario}` now, the scenario itself before
/// the answers were wrapped.
fn scenario(data: &Value) -> &Value {
    if data["scenario"].is_object() { &data["scenario"] } else { data }
}

/// The stats of an answer: `{stats}` now, the stats themselves before.
fn stats(data: &Value) -> &Value {
    if data["stats"].is_object() { &data["stats"] } else { data }
}

fn tags(scenario: &Value) -> Vec<String> {
    scenario["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(String::from)).collect()
}

fn outcome(answer: &Result<(u16, Value), String>) -> String {
    match answer {
        Ok((status, body)) => format!("{status} {}", snippet(body)),
        Err(e) => e.clone(),
    }
}

fn snippet(body: &Value) -> String {
    let text = body.to_string();
    if text.chars().count() > 200 { format!("{}…", text.chars().take(200).collect::<String>()) } else { text }
}

/// A reqwest error with its causes (the connection error is in them).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
