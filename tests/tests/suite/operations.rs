//! Operations over HTTP, on the embedded backend and on DynamoDB Local +
//! moto: the admin's stats match exactly what the test did (deltas from a
//! baseline), jobs listed by status and kind page by page, a real job that
//! dead-letters is listed failed with its last error and, retried, runs
//! again and succeeds, charged once in total; cancel of a queued and of a
//! running job refunds them; every action has its audit entry; and none of
//! it is open to users or moderators.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use whatif_generation::engine;
use whatif_shared::UserId;
use whatif_shared::audit;
use whatif_shared::auth::Role;
use whatif_shared::config::Config;
use whatif_shared::credits::{self, Charge, Spending};
use whatif_shared::jobs::JobStatus;
use whatif_shared::jobs::records::{self, NewJob};
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, Index, Query, TxOp, Update, query_all};
use whatif_shared::ratelimit::RateLimits;
use whatif_shared::stats;
use whatif_tests::api::{self, Answer, PASSWORD, get, post};
use whatif_tests::fake_model::{FakeModel, Mode};
use whatif_tests::{TestServer, emulator_endpoint};

const LIMITS: &str = "auth=100000/15m,general=100000/15m,generate=100000/1h,media=100000/1h,write-social=100000/1h";

/// Receives of a job before the dead-letter queue: the emulator harness's
/// redrive policy, and the embedded queue's with this configuration.
const MAX_RECEIVES: u32 = 5;

fn configure(c: &mut Config) {
    c.rate_limits = RateLimits::parse(LIMITS).expect("valid limits");
    c.queue_max_receives = MAX_RECEIVES;
    c.job_visibility_secs = 1;
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(tag: &str) -> String {
    format!("{tag}{}x{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

struct Account {
    id: String,
    token: String,
}

/// A new account; promoted to `role` the way `whatif-local promote-admin`
/// does (its role counts moving with it), and signed in after.
async fn account(server: &TestServer, tag: &str, role: Role) -> Account {
    let email = format!("{}@example.com", unique(tag));
    let answer = post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 201, "register {email}: {answer:?}");
    let id = answer.data()["user"]["id"].as_str().expect("a user id").to_string();
    if role != Role::User {
        let uid = UserId::from_trusted(&id);
        let mut ops = vec![
            TxOp::Update {
                key: keys::user_profile(&uid),
                update: Update::new().set("role", json!(role)).add("version", 1),
                cond: Some(Cond::eq("role", "user")),
            },
            TxOp::Update {
                key: keys::account_status(&uid),
                update: Update::new().set("role", json!(role)),
                cond: None,
            },
        ];
        ops.extend(stats::move_op(&server.ctx, stats::USERS_ROLE, "user", role.as_str()));
        server.ctx.table.transact(ops).await.expect("promote the account");
    }
    let login = post(server, "/api/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(login.status, 200, "sign in {email}: {login:?}");
    Account { id, token: login.data()["accessToken"].as_str().expect("a token").to_string() }
}

/// The fake model's `provider` as the whole chain, priced at 1 and 2 USD per
/// million prompt and completion tokens; a new engine (its breakers closed).
fn use_engine(server: &TestServer, fake: &FakeModel, provider: &str) {
    let mut env: HashMap<String, String> = fake.env(provider);
    env.insert(engine::PRICES_VAR.to_string(), format!("{provider}=1/2"));
    let engine = engine::from_env(&server.ctx, &env).expect("a valid engine configuration");
    server.ctx.set_extension(Arc::new(engine));
}

async fn stats_of(server: &TestServer, admin: &Account) -> Value {
    let answer = get(server, "/api/admin/stats", Some(&admin.token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data().clone()
}

/// A number in `stats` at `path` (`users.byStatus.active`), 0 when absent.
fn at(stats: &Value, path: &str) -> i64 {
    path.split('.').fold(stats, |v, part| &v[part]).as_i64().unwrap_or(0)
}

/// Tokens and cost of `provider` over the days the stats cover.
fn usage_of(stats: &Value, provider: &str) -> (i64, f64) {
    let rows = stats["usage"].as_array().expect("usage rows");
    rows.iter()
        .filter(|r| r["provider"] == provider)
        .fold((0, 0.0), |(t, c), r| (t + r["tokens"].as_i64().unwrap_or(0), c + r["costUsd"].as_f64().unwrap_or(0.0)))
}

async fn balance(server: &TestServer, token: &str) -> i64 {
    let answer = get(server, "/api/credits?limit=100", Some(token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["balance"].as_i64().expect("a balance")
}

/// The owner's ledger entries for `job_id`, newest first: (kind, credits).
async fn ledger_of(server: &TestServer, token: &str, job_id: &str) -> Vec<(String, i64)> {
    let answer = get(server, "/api/credits?limit=100", Some(token)).await;
    answer.data()["ledger"]
        .as_array()
        .expect("a ledger")
        .iter()
        .filter(|e| e["jobId"] == job_id)
        .map(|e| (e["kind"].as_str().unwrap_or_default().to_string(), e["credits"].as_i64().unwrap_or(0)))
        .collect()
}

async fn admin_post(server: &TestServer, admin: &Account, path: &str) -> Answer {
    post(server, path, Some(&admin.token), json!({})).await
}

/// The audit entries on the job `job_id`, read from the table (GSI2).
async fn audit_of(server: &TestServer, job_id: &str) -> Vec<audit::Entry> {
    let query = Query::partition(Index::Gsi2, keys::audit_of_target("job", job_id));
    let items = query_all(server.ctx.table.as_ref(), query, 100).await.expect("the table answers");
    items.iter().filter_map(audit::Entry::from_item).collect()
}

fn assert_audited(entries: &[audit::Entry], action: &str, admin: &Account, before: &str, after: &str) {
    assert_eq!(entries.len(), 1, "one entry per action: {entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.action, action);
    assert_eq!(entry.target_type, "job");
    assert_eq!(entry.actor.id, admin.id);
    assert_eq!(entry.actor.role.as_deref(), Some("admin"));
    assert!(entry.actor.name.as_deref().is_some_and(|n| n.starts_with("admin")), "{entry:?}");
    assert_eq!(entry.before["status"], before, "{entry:?}");
    assert_eq!(entry.after["status"], after, "{entry:?}");
    assert!(entry.request_id.as_deref().is_some_and(|r| !r.is_empty()), "{entry:?}");
    assert!(!entry.at.is_empty() && !entry.id.is_empty(), "{entry:?}");
}

/// Polls the admin's list of `status` jobs of `kind` until `job_id` is in it (or 60 s pass).
async fn listed(server: &TestServer, admin: &Account, status: &str, kind: &str, job_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let path = format!("/api/admin/jobs?status={status}&type={kind}&limit=100");
        let answer = get(server, &path, Some(&admin.token)).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        if let Some(job) = answer.data()["jobs"].as_array().and_then(|j| j.iter().find(|j| j["id"] == job_id)) {
            return job.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "job {job_id} never listed {status}: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A paid job of `kind` (no worker runs it) for `owner`: its id.
async fn paid_idle_job(server: &TestServer, owner: &Account, kind: &str) -> String {
    let ctx = &server.ctx;
    let id = ctx.ids.ulid().to_string();
    let job = NewJob {
        id: id.clone(),
        kind: kind.to_string(),
        input: json!({"secret": "the owner's input"}),
        charge: Some(Charge::new(ctx, Spending::Video, &id)),
    };
    records::enqueue_charged(ctx, &owner.id, vec![job], Vec::new()).await.expect("a paid job");
    id
}

async fn operations(server: &TestServer) {
    let fake = FakeModel::start().await;
    use_engine(server, &fake, "openai");
    let admin = account(server, "admin", Role::Admin).await;
    let moderator = account(server, "moderator", Role::Moderator).await;
    let before = stats_of(server, &admin).await;
    let idle = unique("ops-idle-");

    // Admins only: the same refusal for a user and a moderator, 401 without a token.
    let someone = account(server, "someone", Role::User).await;
    let nobody_s_job = server.ctx.ids.ulid().to_string();
    for (method, path) in [
        ("GET", "/api/admin/stats".to_string()),
        ("GET", "/api/admin/jobs?status=failed".to_string()),
        ("POST", format!("/api/admin/jobs/{nobody_s_job}/retry")),
        ("POST", format!("/api/admin/jobs/{nobody_s_job}/cancel")),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for (who, token, status) in [
            ("anonymous", None, 401),
            ("a user", Some(&someone.token), 403),
            ("a moderator", Some(&moderator.token), 403),
        ] {
            let body = (method == reqwest::Method::POST).then(|| json!({}));
            let answer = api::send(server, method.clone(), &path, token.map(String::as_str), body, &[]).await;
            assert_eq!(answer.status, status, "{who} {method} {path}: {answer:?}");
        }
    }
    assert_eq!(admin_post(server, &admin, &format!("/api/admin/jobs/{nobody_s_job}/retry")).await.status, 404);
    assert_eq!(admin_post(server, &admin, &format!("/api/admin/jobs/{nobody_s_job}/cancel")).await.status, 404);
    let bad = get(server, "/api/admin/jobs?status=lost", Some(&admin.token)).await;
    assert_eq!(bad.status, 400, "{bad:?}");

    // Two scenarios, and a report of their owner's account (twice: one reported target).
    let owner = account(server, "owner", Role::User).await;
    for i in 0..2 {
        let body = json!({"topic": format!("What if {} ran the trains, take {i}?", unique("ops")), "options": {"length": "short"}});
        let answer = post(server, "/api/generate", Some(&owner.token), body).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.data()["saved"], true);
    }
    let reporter = account(server, "reporter", Role::User).await;
    for who in [&reporter, &someone] {
        let body = json!({"targetType": "user", "targetId": owner.id, "reason": "spam"});
        let answer = post(server, "/api/report", Some(&who.token), body).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }

    // A real job that keeps failing (its provider is down) ends in the
    // dead-letter queue: listed failed, with its last error, and refunded.
    let start_balance = balance(server, &owner.token).await;
    fake.set_mode("openai", Mode::Down);
    use_engine(server, &fake, "openai");
    let body = json!({"topic": format!("What if {} grew wings?", unique("ops")), "options": {"async": true}});
    let queued = post(server, "/api/generate", Some(&owner.token), body).await;
    assert_eq!(queued.status, 202, "{queued:?}");
    let job_id = queued.data()["jobId"].as_str().expect("a job id").to_string();
    let failed = listed(server, &admin, "failed", "generation", &job_id).await;
    assert_eq!(failed["error"], format!("The job failed after {MAX_RECEIVES} attempts"), "{failed}");
    assert_eq!(failed["ownerId"], owner.id.as_str());
    assert_eq!(failed["type"], "generation");
    assert_eq!(failed["charge"]["refunded"], true, "{failed}");
    assert!(failed.get("input").is_none() && !failed.to_string().contains("grew wings"), "no input: {failed}");
    assert_eq!(balance(server, &owner.token).await, start_balance, "refunded when it failed");

    // Retried once the provider is back: it runs again and succeeds, charged once in total.
    fake.set_mode("openai", Mode::Ok);
    use_engine(server, &fake, "openai");
    let retried = admin_post(server, &admin, &format!("/api/admin/jobs/{job_id}/retry")).await;
    assert_eq!(retried.status, 200, "{retried:?}");
    let price = retried.data()["charged"].as_i64().expect("what it charged");
    assert!(price > 0, "a refunded job is charged again: {retried:?}");
    assert_eq!(retried.data()["job"]["status"], "queued");
    assert_eq!(retried.data()["job"]["progress"], 0);
    assert!(retried.data()["job"].get("error").is_none(), "{retried:?}");
    let done = api::finished(server, &owner.token, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["result"]["scenarioId"].is_string(), "{done}");
    assert_eq!(balance(server, &owner.token).await, start_balance - price, "charged once in total");
    let mut entries = ledger_of(server, &owner.token, &job_id).await;
    entries.sort();
    assert_eq!(
        entries,
        [("debit".to_string(), -price), ("debit".to_string(), -price), ("refund".to_string(), price)],
        "paid, refunded, paid again"
    );
    let again = admin_post(server, &admin, &format!("/api/admin/jobs/{job_id}/retry")).await;
    assert_eq!((again.status, again.code()), (409, "JOB_NOT_FAILED"), "{again:?}");
    assert_audited(&audit_of(server, &job_id).await, "job.retry", &admin, "failed", "queued");

    // Cancel a queued and a running job: both refunded, each audited once.
    let queued_job = paid_idle_job(server, &owner, &idle).await;
    let running_job = paid_idle_job(server, &owner, &idle).await;
    records::update(&server.ctx, &running_job, JobStatus::Running, 40, None, None).await.unwrap();
    let paid = balance(server, &owner.token).await;
    let video = Spending::Video.price(&server.ctx);
    for (id, was) in [(&queued_job, "queued"), (&running_job, "running")] {
        let cancelled = admin_post(server, &admin, &format!("/api/admin/jobs/{id}/cancel")).await;
        assert_eq!(cancelled.status, 200, "{cancelled:?}");
        assert_eq!(cancelled.data()["status"], "cancelled");
        assert_eq!(cancelled.data()["error"], "Cancelled by an admin");
        assert_eq!(cancelled.data()["charge"]["refunded"], true, "{cancelled:?}");
        let twice = admin_post(server, &admin, &format!("/api/admin/jobs/{id}/cancel")).await;
        assert_eq!((twice.status, twice.code()), (409, "JOB_FINISHED"), "{twice:?}");
        let retry = admin_post(server, &admin, &format!("/api/admin/jobs/{id}/retry")).await;
        assert_eq!(retry.status, 409, "only a failed job is retried: {retry:?}");
        assert_audited(&audit_of(server, id).await, "job.cancel", &admin, was, "cancelled");
    }
    assert_eq!(balance(server, &owner.token).await, paid + 2 * video, "both refunded");
    let owners_view = get(server, &format!("/api/jobs/{running_job}"), Some(&owner.token)).await;
    assert_eq!(owners_view.data()["status"], "cancelled", "its owner sees it: {owners_view:?}");

    // A refunded job whose owner cannot pay again: 402, nothing changes, nothing audited.
    let broke = account(server, "broke", Role::User).await;
    let unpaid = paid_idle_job(server, &broke, &idle).await;
    records::fail(&server.ctx, &unpaid, "the renderer broke").await.unwrap();
    let left = balance(server, &broke.token).await;
    credits::admin_grant(&server.ctx, &UserId::from_trusted(&broke.id), -left, "test: spent it all", Vec::new())
        .await
        .unwrap();
    let refused = admin_post(server, &admin, &format!("/api/admin/jobs/{unpaid}/retry")).await;
    assert_eq!(refused.status, 402, "{refused:?}");
    assert_eq!(listed(server, &admin, "failed", &idle, &unpaid).await["error"], "the renderer broke");
    assert!(audit_of(server, &unpaid).await.is_empty(), "a refused action is not audited");

    // A retried job that fails again is refunded again, once: paid once in total, net nothing.
    let twice = paid_idle_job(server, &someone, &idle).await;
    let start = balance(server, &someone.token).await;
    records::fail(&server.ctx, &twice, "first failure").await.unwrap();
    let retried = admin_post(server, &admin, &format!("/api/admin/jobs/{twice}/retry")).await;
    assert_eq!((retried.status, retried.data()["charged"].as_i64()), (200, Some(video)), "{retried:?}");
    for _ in 0..2 {
        records::fail(&server.ctx, &twice, "second failure").await.unwrap();
    }
    assert_eq!(balance(server, &someone.token).await, start + video, "refunded, charged, refunded again");
    let mut entries = ledger_of(server, &someone.token, &twice).await;
    entries.sort();
    let expected = [("debit", -video), ("debit", -video), ("refund", video), ("refund", video)];
    assert_eq!(entries, expected.map(|(k, c)| (k.to_string(), c)));

    // An account's deletion moves it to deleted and out of its role; its jobs leave their counts.
    let leaving = account(server, "leaving", Role::User).await;
    paid_idle_job(server, &leaving, &idle).await;
    let path = "/api/users/delete-account";
    let body = json!({"password": PASSWORD});
    let gone = api::send(server, reqwest::Method::DELETE, path, Some(&leaving.token), Some(body), &[]).await;
    assert_eq!(gone.status, 202, "{gone:?}");
    let deletion = gone.data()["jobId"].as_str().expect("its job").to_string();
    let started = Instant::now();
    while server.ctx.table.get(&keys::job(&deletion)).await.unwrap().is_some() {
        assert!(started.elapsed() < Duration::from_secs(30), "the account was never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Listing by status and kind, newest first, page by page.
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(paid_idle_job(server, &owner, &idle).await);
    }
    made.reverse();
    let path = |rest: &str| format!("/api/admin/jobs?status=queued&type={idle}&limit=2{rest}");
    let first = get(server, &path(""), Some(&admin.token)).await;
    assert_eq!(first.status, 200, "{first:?}");
    let ids = |a: &Answer| -> Vec<String> {
        a.data()["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&first), made[..2], "newest first");
    let cursor = first.data()["pagination"]["nextCursor"].as_str().expect("a next cursor").to_string();
    let second = get(server, &path(&format!("&cursor={cursor}")), Some(&admin.token)).await;
    assert_eq!(ids(&second), made[2..], "{second:?}");
    assert_eq!(second.data()["pagination"]["hasNext"], false, "{second:?}");
    let by_page = get(server, &path("&page=2"), Some(&admin.token)).await;
    assert_eq!(ids(&by_page), made[2..], "{by_page:?}");
    let forged = get(server, &path("&cursor=eyJwayI6IkpPQiMxIn0"), Some(&admin.token)).await;
    assert_eq!(forged.status, 400, "a cursor the API did not give out: {forged:?}");

    // Registrations and generations at once all count: the counter shards
    // absorb the contention (DynamoDB cancels concurrent transactions on one item).
    let registrations = (0..12).map(|i| async move {
        let email = format!("{}@example.com", unique(&format!("crowd{i}-")));
        post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await.status
    });
    let generations = (0..8).map(|i| {
        let token = owner.token.clone();
        async move {
            let body = json!({"topic": format!("What if {} sang at once, {i}?", unique("ops")), "options": {"length": "short"}});
            post(server, "/api/generate", Some(&token), body).await.status
        }
    });
    let (registered, generated) =
        tokio::join!(futures::future::join_all(registrations), futures::future::join_all(generations));
    assert!(registered.iter().all(|s| *s == 201), "{registered:?}");
    assert!(generated.iter().all(|s| *s == 200), "{generated:?}");

    // The stats moved by exactly what happened since the baseline.
    let after = stats_of(server, &admin).await;
    let delta = |path: &str| at(&after, path) - at(&before, path);
    // someone, owner, reporter, broke and the crowd of 12; and one deleted
    assert_eq!(delta("users.total"), 16, "{after}");
    assert_eq!(delta("users.byStatus.active"), 16);
    assert_eq!(delta("users.byStatus.deleted"), 1);
    assert_eq!(delta("users.byRole.user"), 16);
    assert_eq!((delta("users.byRole.admin"), delta("users.byRole.moderator")), (0, 0));
    // Two saved directly, one by the retried job, eight at once.
    assert_eq!((delta("scenarios.total"), delta("scenarios.created")), (11, 11), "{after}");
    assert_eq!(delta("jobs.byStatus.queued"), 3, "the three listed: {after}");
    assert_eq!(delta("jobs.byStatus.running"), 0);
    assert_eq!(delta("jobs.byStatus.succeeded"), 1, "the retried one");
    assert_eq!(delta("jobs.byStatus.failed"), 2, "the one its owner cannot pay again, the one failed twice");
    assert_eq!(delta("jobs.byStatus.cancelled"), 2);
    assert_eq!(delta("reports.byStatus.open"), 1, "one target, reported twice");
    // Eleven model answers of 400 + 300 tokens at 1 and 2 USD per million: 0.001 USD each.
    let (tokens, cost) = usage_of(&after, "openai");
    let (tokens_before, cost_before) = usage_of(&before, "openai");
    assert_eq!(tokens - tokens_before, 11 * 700, "{after}");
    assert!(((cost - cost_before) - 0.011).abs() < 1e-9, "{after}");
    let week = get(server, "/api/admin/stats?days=7", Some(&admin.token)).await;
    assert_eq!(week.status, 200);
    for bad in ["0", "367", "x"] {
        let answer = get(server, &format!("/api/admin/stats?days={bad}"), Some(&admin.token)).await;
        assert_eq!(answer.status, 400, "days={bad}: {answer:?}");
    }
}

#[tokio::test]
async fn operations_on_the_embedded_backend() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), configure).await;
    operations(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn operations_on_the_aws_adapters() {
    let (Some(dynamodb), Some(moto)) =
        (emulator_endpoint("WHATIF_TEST_DYNAMODB_URL"), emulator_endpoint("WHATIF_TEST_MOTO_URL"))
    else {
        return;
    };
    let (server, _data) = whatif_tests::start_on_emulators(&dynamodb, &moto, configure).await;
    operations(&server).await;
    server.stop().await;
}
