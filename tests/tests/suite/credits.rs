//! Credits and billing over HTTP, on the embedded backend and on the AWS
//! adapters (DynamoDB Local and moto): the monthly allowance, a debit per
//! spending route (generate, regenerate, continue, random, async and batch
//! jobs, narration, video), 402 at zero before any work, refunds on failure
//! and cancel (once), a double delivery charged once, 50 generations at once
//! against credits for 10; Stripe Checkout through a fake of Stripe's API
//! (form bodies, idempotency replays, JSON errors, 429, timeouts); and the
//! webhook: forged, stale, replayed, re-ordered and duplicated events.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use whatif_billing::signature;
use whatif_shared::UserId;
use whatif_shared::config::Config;
use whatif_shared::credits::{Charge, Spending};
use whatif_shared::jobs::JobMessage;
use whatif_shared::jobs::records::{self, NewJob};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::api::{self, Answer, finished, get, post, sign_up};
use whatif_tests::fake_stripe::{self, FakeStripe, Mode};
use whatif_tests::{TestServer, emulator_endpoint};

const LIMITS: &str = "general=100000/15m,generate=100000/1h,media=100000/1h";
/// The free plan's monthly credits on these servers.
const ALLOWANCE: i64 = 30;
const OLD_SECRET: &str = "whsec_old_rotating_out";
const NEW_SECRET: &str = "whsec_current_signing";
/// A job kind no worker runs: its jobs stay queued until cancelled.
const IDLE_KIND: &str = "credits-test-idle";

fn configure(stripe: &str, allowance: i64) -> impl FnOnce(&mut Config) {
    let stripe = stripe.to_string();
    move |c: &mut Config| {
        c.rate_limits = RateLimits::parse(LIMITS).unwrap();
        c.billing.free_monthly = allowance;
        c.billing.stripe_base_url = stripe;
        c.billing.stripe_timeout_ms = 1500;
        if let Some(large) = c.billing.packs.iter_mut().find(|p| p.id == "large") {
            large.premium = true;
        }
    }
}

async fn embedded(stripe: &FakeStripe, allowance: i64) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), configure(&stripe.base_url, allowance)).await;
    set_stripe_keys(&server).await;
    (server, dir)
}

async fn set_stripe_keys(server: &TestServer) {
    let keys = json!({"secretKey": fake_stripe::SECRET_KEY, "webhookSecrets": [OLD_SECRET, NEW_SECRET]});
    server.ctx.secrets.put("stripe", &keys.to_string()).await.expect("the stripe secret");
}

async fn credits(server: &TestServer, token: &str) -> Value {
    let answer = get(server, "/api/credits?limit=100", Some(token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data().clone()
}

async fn balance(server: &TestServer, token: &str) -> i64 {
    credits(server, token).await["balance"].as_i64().expect("a balance")
}

/// The newest ledger entry.
async fn last_entry(server: &TestServer, token: &str) -> Value {
    credits(server, token).await["ledger"][0].clone()
}

// ---------------------------------------------------------------------------
// Spending.

/// Every spending route debits its price once, with a ledger entry naming
/// what it paid for; anonymous generation is free.
async fn every_spending_route_debits(server: &TestServer) {
    let (token, _) = sign_up(server, "spender").await;
    let start = credits(server, &token).await;
    assert_eq!(start["balance"], ALLOWANCE, "the allowance is granted on the first read: {start}");
    assert_eq!(start["plan"], "free");
    assert_eq!(start["monthlyAllowance"], ALLOWANCE);
    assert!(start["resetsAt"].as_str().unwrap().ends_with("-01T00:00:00.000Z"), "{start}");
    assert_eq!(start["ledger"].as_array().unwrap().len(), 1);
    assert_eq!(start["ledger"][0]["kind"], "grant");
    assert_eq!(start["ledger"][0]["reason"], "monthly-allowance");
    assert_eq!(start["ledger"][0]["credits"], ALLOWANCE);
    // Reading again does not renew again.
    assert_eq!(balance(server, &token).await, ALLOWANCE);

    let anonymous = post(server, "/api/generate", None, json!({"topic": "What if rain fell upwards?"})).await;
    assert_eq!(anonymous.status, 200, "anonymous generation is free: {anonymous:?}");

    let mut expected = ALLOWANCE;
    let generated = post(server, "/api/generate", Some(&token), json!({"topic": "What if rain fell upwards?"})).await;
    assert_eq!(generated.status, 200, "{generated:?}");
    let id = generated.data()["scenario"]["id"].as_str().unwrap().to_string();
    expected -= 1;
    assert_eq!(balance(server, &token).await, expected);
    let entry = last_entry(server, &token).await;
    assert_eq!((entry["kind"].as_str(), entry["credits"].as_i64()), (Some("debit"), Some(-1)), "{entry}");
    assert_eq!(entry["reason"], "generation");
    assert_eq!(entry["scenarioId"], id.as_str());

    let regenerated = post(
        server,
        "/api/regenerate",
        Some(&token),
        json!({"topic": "What if rain fell upwards?", "previousScenarioId": id}),
    )
    .await;
    assert_eq!(regenerated.status, 200, "{regenerated:?}");
    expected -= 1;
    assert_eq!(balance(server, &token).await, expected);
    assert_eq!(last_entry(server, &token).await["reason"], "regeneration");

    let choice = generated.data()["scenario"]["choices"][0]["id"].as_str().unwrap().to_string();
    let continued =
        post(server, &format!("/api/scenarios/{id}/continue"), Some(&token), json!({"choiceId": choice})).await;
    assert_eq!(continued.status, 201, "{continued:?}");
    expected -= 1;
    assert_eq!(balance(server, &token).await, expected);
    assert_eq!(last_entry(server, &token).await["reason"], "continuation");

    let random = get(server, "/api/random?language=en", Some(&token)).await;
    assert_eq!(random.status, 200, "{random:?}");
    expected -= 1;
    assert_eq!(balance(server, &token).await, expected);

    let job = post(
        server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if trains ran on time?", "options": {"async": true}}),
    )
    .await;
    assert_eq!(job.status, 202, "{job:?}");
    let job_id = job.data()["jobId"].as_str().unwrap().to_string();
    expected -= 1;
    let entry = last_entry(server, &token).await;
    assert_eq!(entry["jobId"], job_id.as_str(), "debited with the job: {entry}");
    assert_eq!(finished(server, &token, &job_id).await["status"], "succeeded");
    assert_eq!(balance(server, &token).await, expected, "the job's work costs nothing more");

    let batch = post(
        server,
        "/api/batch-generate",
        Some(&token),
        json!({"topics": ["What if owls ran schools?", "What if cats ran banks?"]}),
    )
    .await;
    assert_eq!(batch.status, 202, "{batch:?}");
    expected -= 2;
    assert_eq!(balance(server, &token).await, expected);
    let ledger = credits(server, &token).await["ledger"].clone();
    let batch_entries: Vec<&Value> =
        ledger.as_array().unwrap().iter().filter(|e| e["reason"] == "batch-generation").collect();
    assert_eq!(batch_entries.len(), 2, "one entry per topic: {ledger}");
    for job in batch.data()["jobs"].as_array().unwrap() {
        assert_eq!(finished(server, &token, job["jobId"].as_str().unwrap()).await["status"], "succeeded");
    }

    let narration = post(server, "/api/tts/generate", Some(&token), json!({"text": "Hello there, reader."})).await;
    assert_eq!(narration.status, 202, "{narration:?}");
    expected -= 2;
    assert_eq!(balance(server, &token).await, expected);
    assert_eq!(last_entry(server, &token).await["reason"], "narration");
    let audio = narration.data()["audioId"].as_str().unwrap().to_string();
    assert_eq!(finished(server, &token, &audio).await["status"], "succeeded");

    let video = post(server, "/api/video/generate", Some(&token), json!({"scenarioId": id})).await;
    assert_eq!(video.status, 202, "{video:?}");
    expected -= 5;
    assert_eq!(balance(server, &token).await, expected);
    assert_eq!(last_entry(server, &token).await["reason"], "video");
    let video = video.data()["videoId"].as_str().unwrap().to_string();
    assert_eq!(finished(server, &token, &video).await["status"], "succeeded");
    assert_eq!(balance(server, &token).await, expected, "nothing refunded for work that was done");
    assert_eq!(expected, ALLOWANCE - 14);

    // Down to zero: 402 before any work, nothing queued or saved.
    let rest = expected;
    for _ in 0..rest {
        let answer =
            post(server, "/api/generate", Some(&token), json!({"topic": "What if clocks ran backwards?"})).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    assert_eq!(balance(server, &token).await, 0);
    let before = get(server, "/api/scenarios/my?limit=100", Some(&token)).await.data()["pagination"]["total"].clone();
    for (path, body) in [
        ("/api/generate", json!({"topic": "What if the sun were green?"})),
        ("/api/generate", json!({"topic": "What if the sun were green?", "options": {"async": true}})),
        ("/api/regenerate", json!({"topic": "What if the sun were green?"})),
        ("/api/batch-generate", json!({"topics": ["What if the sun were green?"]})),
        ("/api/tts/generate", json!({"text": "Hello"})),
        ("/api/video/generate", json!({"scenarioId": id})),
    ] {
        let answer = post(server, path, Some(&token), body).await;
        assert_eq!(answer.status, 402, "{path}: {answer:?}");
        assert_eq!(answer.code(), "INSUFFICIENT_CREDITS");
        assert!(answer.body["message"].as_str().unwrap().contains("Not enough credits"), "{answer:?}");
    }
    let continued =
        post(server, &format!("/api/scenarios/{id}/continue"), Some(&token), json!({"choiceId": choice})).await;
    assert_eq!(continued.status, 402, "{continued:?}");
    let after = get(server, "/api/scenarios/my?limit=100", Some(&token)).await.data()["pagination"]["total"].clone();
    assert_eq!(before, after, "nothing was saved for a refused spend");
    assert_eq!(balance(server, &token).await, 0, "never below zero");
    let anonymous = post(server, "/api/generate", None, json!({"topic": "What if the sun were green?"})).await;
    assert_eq!(anonymous.status, 200, "anonymous generation does not depend on anyone's credits");
}

/// A paid job that is cancelled, or fails, before it produced anything gets
/// its credits back exactly once; a job delivered twice is charged once.
async fn refunds_and_double_delivery(server: &TestServer) {
    let (token, user) = sign_up(server, "refunded").await;
    assert_eq!(balance(server, &token).await, ALLOWANCE);
    let ctx = &server.ctx;
    let paid_job = |id: &str| NewJob {
        id: id.to_string(),
        kind: IDLE_KIND.to_string(),
        input: json!({}),
        charge: Some(Charge::new(ctx, Spending::Video, id)),
    };

    // Cancelled while queued: refunded once, however often it is cancelled.
    let id = ctx.ids.ulid().to_string();
    records::enqueue_charged(ctx, &user, vec![paid_job(&id)], Vec::new()).await.expect("a paid job");
    assert_eq!(balance(server, &token).await, ALLOWANCE - 5);
    let cancel = post(server, &format!("/api/jobs/{id}/cancel"), Some(&token), json!({})).await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    assert_eq!(balance(server, &token).await, ALLOWANCE);
    let entry = last_entry(server, &token).await;
    assert_eq!((entry["kind"].as_str(), entry["credits"].as_i64()), (Some("refund"), Some(5)), "{entry}");
    assert_eq!(entry["jobId"], id.as_str());
    let again = post(server, &format!("/api/jobs/{id}/cancel"), Some(&token), json!({})).await;
    assert_eq!(again.status, 409, "{again:?}");
    records::fail(ctx, &id, "late failure").await.unwrap();
    assert_eq!(balance(server, &token).await, ALLOWANCE, "one refund only");

    // Failed (as the worker records it, and again on a redelivery): refunded once.
    let id = ctx.ids.ulid().to_string();
    records::enqueue_charged(ctx, &user, vec![paid_job(&id)], Vec::new()).await.expect("a paid job");
    assert_eq!(balance(server, &token).await, ALLOWANCE - 5);
    let (a, b) = tokio::join!(records::fail(ctx, &id, "the renderer broke"), records::fail(ctx, &id, "again"));
    a.unwrap();
    b.unwrap();
    records::fail(ctx, &id, "and again").await.unwrap();
    assert_eq!(balance(server, &token).await, ALLOWANCE);
    let refunds = credits(server, &token).await["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "refund" && e["jobId"] == id.as_str())
        .count();
    assert_eq!(refunds, 1);

    // A job whose work is done is not refunded when a failure is recorded late.
    let job = post(
        server,
        "/api/generate",
        Some(&token),
        json!({"topic": "What if bees built cities?", "options": {"async": true}}),
    )
    .await;
    assert_eq!(job.status, 202, "{job:?}");
    let job_id = job.data()["jobId"].as_str().unwrap().to_string();
    // Delivered twice: a second copy of its message, as SQS may hand out.
    ctx.queue.send(&JobMessage::new("generation", &job_id).to_body(), Duration::ZERO).await.unwrap();
    assert_eq!(finished(server, &token, &job_id).await["status"], "succeeded");
    // Run it once more directly, as a third delivery would.
    whatif_generation::routes::job::run(ctx.clone(), JobMessage::new("generation", &job_id)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    records::fail(ctx, &job_id, "too late").await.unwrap();
    assert_eq!(balance(server, &token).await, ALLOWANCE - 1, "charged once, never refunded");
    let mine = get(server, "/api/scenarios/my?limit=100", Some(&token)).await;
    assert_eq!(mine.data()["pagination"]["total"], 1, "one scenario: {mine:?}");
}

/// 50 generations at once from an account with credits for 10: exactly 10
/// are charged and saved, 40 refused with 402.
async fn fifty_at_once(server: &TestServer, token: &str) {
    assert_eq!(balance(server, token).await, 10);
    let runs = (0..50).map(|i| {
        let token = token.to_string();
        async move {
            let body = json!({"topic": format!("What if the number {i} were lucky?")});
            post(server, "/api/generate", Some(&token), body).await.status
        }
    });
    let statuses = futures::future::join_all(runs).await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!((ok, refused), (10, 40), "{statuses:?}");
    let after = credits(server, token).await;
    assert_eq!(after["balance"], 0);
    let debits = after["ledger"].as_array().unwrap().iter().filter(|e| e["kind"] == "debit").count();
    assert_eq!(debits, 10);
    let mine = get(server, "/api/scenarios/my?limit=100", Some(token)).await;
    assert_eq!(mine.data()["pagination"]["total"], 10, "{mine:?}");
}

#[tokio::test]
async fn spending_refunds_and_double_delivery_on_the_embedded_backend() {
    let stripe = FakeStripe::start().await;
    let (server, _dir) = embedded(&stripe, ALLOWANCE).await;
    every_spending_route_debits(&server).await;
    refunds_and_double_delivery(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn fifty_generations_at_once_with_credits_for_ten_on_the_embedded_backend() {
    let stripe = FakeStripe::start().await;
    let (server, _dir) = embedded(&stripe, 10).await;
    let (token, _) = sign_up(&server, "racer").await;
    fifty_at_once(&server, &token).await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Stripe Checkout.

#[tokio::test]
async fn checkout_creates_a_session_through_stripe_s_api() {
    let stripe = FakeStripe::start().await;
    let (server, _dir) = embedded(&stripe, ALLOWANCE).await;
    let (token, user) = sign_up(&server, "buyer").await;

    let plans = get(&server, "/api/billing/plans", None).await;
    assert_eq!(plans.status, 200, "{plans:?}");
    assert_eq!(plans.data()["currency"], "usd");
    assert_eq!(plans.data()["packs"][0]["id"], "small");
    assert_eq!(plans.data()["prices"]["video"], 5);
    assert_eq!(plans.data()["packs"][2]["premium"], true);
    assert_eq!(plans.data()["plans"][0]["monthlyAllowance"], ALLOWANCE);
    assert!(plans.data()["plans"][1]["generateLimit"]["max"].as_u64().unwrap() > 0);

    let buy = |key: &'static str, pack: &'static str| {
        let token = token.clone();
        let server = &server;
        async move {
            api::send(
                server,
                Method::POST,
                "/api/billing/checkout",
                Some(&token),
                Some(json!({"pack": pack})),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = buy("buy-1", "small").await;
    assert_eq!(first.status, 200, "{first:?}");
    assert!(first.data()["url"].as_str().unwrap().starts_with("https://checkout.stripe.com/"), "{first:?}");
    let form = stripe.last_form();
    assert_eq!(form["mode"], "payment");
    assert_eq!(form["client_reference_id"], user);
    assert_eq!(form["metadata[account_id]"], user);
    assert_eq!(form["metadata[pack]"], "small");
    assert_eq!(form["line_items[0][price_data][unit_amount]"], "500");
    assert_eq!(form["line_items[0][price_data][currency]"], "usd");
    assert_eq!(form["success_url"], "http://localhost:3001/billing/success?session_id={CHECKOUT_SESSION_ID}");
    assert_eq!(form["cancel_url"], "http://localhost:3001/billing/cancel");
    let replay = buy("buy-1", "small").await;
    assert_eq!(replay.data()["sessionId"], first.data()["sessionId"], "a retry gets the same session");
    assert_eq!(stripe.sessions_created(), 1);
    let second = buy("buy-2", "small").await;
    assert_ne!(second.data()["sessionId"], first.data()["sessionId"]);

    // Stripe's own idempotency: the adapter's key replays the first session,
    // and the same key with another body is a conflict.
    let billing = &server.ctx.config.billing;
    let small = billing.pack("small").unwrap();
    let medium = billing.pack("medium").unwrap();
    use whatif_billing::stripe::create_session;
    let a = create_session(billing, fake_stripe::SECRET_KEY, small, &user, "whatif-same").await.unwrap();
    let b = create_session(billing, fake_stripe::SECRET_KEY, small, &user, "whatif-same").await.unwrap();
    assert_eq!(a, b, "Stripe replays the first answer for a known key");
    let conflict = create_session(billing, fake_stripe::SECRET_KEY, medium, &user, "whatif-same").await.unwrap_err();
    assert_eq!((conflict.status.as_u16(), conflict.code), (409, "IDEMPOTENCY_CONFLICT"));
    let wrong_key = whatif_billing::stripe::create_session(billing, "sk_test_wrong", small, &user, "k2").await;
    assert_eq!(wrong_key.unwrap_err().status.as_u16(), 503);

    // Stripe's errors are 503s that leak nothing.
    stripe.set_mode(Mode::RateLimited);
    let busy = buy("buy-3", "small").await;
    assert_eq!(busy.status, 503, "{busy:?}");
    assert_eq!(busy.header("retry-after"), Some("2"));
    stripe.set_mode(Mode::Down);
    let down = buy("buy-4", "small").await;
    assert_eq!(down.status, 503, "{down:?}");
    assert!(!down.body.to_string().contains("7f3a"), "no internal detail: {down:?}");
    stripe.set_mode(Mode::Slow(Duration::from_secs(3)));
    let slow = buy("buy-5", "small").await;
    assert_eq!(slow.status, 503, "a timeout: {slow:?}");
    stripe.set_mode(Mode::Ok);

    let unknown = buy("buy-6", "gold").await;
    assert_eq!(unknown.status, 400, "{unknown:?}");
    let extra = post(&server, "/api/billing/checkout", Some(&token), json!({"pack": "small", "credits": 999})).await;
    assert_eq!(extra.status, 400, "{extra:?}");
    let anonymous = post(&server, "/api/billing/checkout", None, json!({"pack": "small"})).await;
    assert_eq!(anonymous.status, 401);

    // Not set up: 503, never a 500.
    server.ctx.secrets.put("stripe", "{}").await.unwrap();
    let unset = buy("buy-7", "small").await;
    assert_eq!(unset.status, 503, "{unset:?}");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// The webhook.

fn session_event(id: &str, kind: &str, user: &str, payment: &str, status: &str) -> Value {
    json!({
        "id": id, "object": "event", "type": kind, "api_version": "2024-06-20", "created": 1_795_400_000,
        "data": {"object": {
            "id": format!("cs_{payment}"), "object": "checkout.session", "payment_status": status,
            "client_reference_id": user, "payment_intent": payment, "amount_total": 500, "currency": "usd",
            "metadata": {"account_id": user, "pack": "small"},
        }},
    })
}

fn charge_event(id: &str, kind: &str, payment: &str) -> Value {
    json!({
        "id": id, "object": "event", "type": kind,
        "data": {"object": {
            "id": format!("ch_{payment}"), "object": "charge", "payment_intent": payment,
            "amount": 500, "amount_refunded": 500, "refunded": true, "charge": format!("ch_{payment}"),
        }},
    })
}

async fn webhook(server: &TestServer, body: &str, signature: Option<&str>) -> Answer {
    let mut request =
        server.http.post(server.url("/api/billing/webhook")).header("content-type", "application/json; charset=utf-8");
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.body(body.to_string()).send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers, bytes }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Sends `event` signed as Stripe signs it, with `secret`.
async fn send(server: &TestServer, event: &Value, secret: &str) -> Answer {
    let body = event.to_string();
    webhook(server, &body, Some(&signature::sign(body.as_bytes(), secret, now()))).await
}

async fn webhook_attacks(server: &TestServer) {
    let (token, user) = sign_up(server, "stripe-buyer").await;
    assert_eq!(balance(server, &token).await, ALLOWANCE);
    let paid = session_event("evt_paid_1", "checkout.session.completed", &user, "pi_1", "paid");
    let body = paid.to_string();

    // Forged: no header, a wrong secret, a tampered body, a malformed header.
    assert_eq!(webhook(server, &body, None).await.status, 400);
    let forged = webhook(server, &body, Some(&signature::sign(body.as_bytes(), "whsec_attacker", now()))).await;
    assert_eq!((forged.status, forged.code()), (400, "BAD_SIGNATURE"), "{forged:?}");
    let genuine = signature::sign(body.as_bytes(), NEW_SECRET, now());
    let tampered = body.replace("\"small\"", "\"large\"");
    assert_eq!(webhook(server, &tampered, Some(&genuine)).await.status, 400, "a signature covers the body");
    assert_eq!(webhook(server, &body, Some("t=abc,v1=00")).await.status, 400);
    assert_eq!(webhook(server, &body, Some(&genuine.replace("v1=", "v0="))).await.status, 400, "v0 is not v1");
    // Stale: signed six minutes ago (or ahead).
    let stale = webhook(server, &body, Some(&signature::sign(body.as_bytes(), NEW_SECRET, now() - 360))).await;
    assert_eq!((stale.status, stale.code()), (400, "BAD_SIGNATURE"), "{stale:?}");
    let ahead = webhook(server, &body, Some(&signature::sign(body.as_bytes(), NEW_SECRET, now() + 360))).await;
    assert_eq!(ahead.status, 400);
    assert_eq!(balance(server, &token).await, ALLOWANCE, "nothing forged or stale was applied");

    // Genuine, signed with the secret being rotated out: granted once.
    let first = send(server, &paid, OLD_SECRET).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.data()["result"], "granted");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 100);
    let entry = last_entry(server, &token).await;
    assert_eq!((entry["kind"].as_str(), entry["credits"].as_i64()), (Some("grant"), Some(100)), "{entry}");
    assert_eq!(entry["paymentId"], "pi_1");
    // Replayed (the same event again, and duplicated at once): 200, no change.
    let replay = send(server, &paid, NEW_SECRET).await;
    assert_eq!((replay.status, replay.data()["result"].as_str()), (200, Some("replayed")), "{replay:?}");
    let (a, b) = tokio::join!(send(server, &paid, NEW_SECRET), send(server, &paid, NEW_SECRET));
    assert_eq!((a.status, b.status), (200, 200));
    // Another event of the same payment (async success after a paid completion): no second grant.
    let also = session_event("evt_paid_1b", "checkout.session.async_payment_succeeded", &user, "pi_1", "paid");
    assert_eq!(send(server, &also, NEW_SECRET).await.status, 200);
    assert_eq!(balance(server, &token).await, ALLOWANCE + 100);

    // Duplicated at once, a new payment: one grant.
    let twice = session_event("evt_paid_2", "checkout.session.completed", &user, "pi_2", "paid");
    let runs = (0..6).map(|_| send(server, &twice, NEW_SECRET));
    let answers = futures::future::join_all(runs).await;
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a.data()["result"] == "granted").count(), 1);
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200);

    // Completed unpaid (a delayed method), then paid asynchronously: granted then.
    let unpaid = session_event("evt_unpaid_3", "checkout.session.completed", &user, "pi_3", "unpaid");
    assert_eq!(send(server, &unpaid, NEW_SECRET).await.status, 200);
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200);
    let later = session_event("evt_async_3", "checkout.session.async_payment_succeeded", &user, "pi_3", "paid");
    assert_eq!(send(server, &later, NEW_SECRET).await.data()["result"], "granted");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 300);

    // Refunded and disputed: what the payment granted is taken back, once.
    let refund = charge_event("evt_refund_1", "charge.refunded", "pi_1");
    assert_eq!(send(server, &refund, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200);
    let entry = last_entry(server, &token).await;
    assert_eq!((entry["kind"].as_str(), entry["credits"].as_i64()), (Some("reversal"), Some(-100)), "{entry}");
    let dispute = charge_event("evt_dispute_1", "charge.dispute.created", "pi_1");
    assert_eq!(send(server, &dispute, NEW_SECRET).await.status, 200);
    assert_eq!(send(server, &refund, NEW_SECRET).await.data()["result"], "replayed");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200, "a payment is taken back once");

    // Re-ordered: the refund comes before the payment's grant, which then grants nothing.
    let early = charge_event("evt_refund_4", "charge.refunded", "pi_4");
    assert_eq!(send(server, &early, NEW_SECRET).await.status, 200);
    let late = session_event("evt_paid_4", "checkout.session.completed", &user, "pi_4", "paid");
    assert_eq!(send(server, &late, NEW_SECRET).await.status, 200);
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200);
    // Re-ordered, in part: refunds of part of a payment before its grant;
    // the grant gives the pack less their share, a later full refund the rest.
    let early_part = |id: &str, refunded: i64| {
        let mut event = charge_event(id, "charge.refunded", "pi_9");
        event["data"]["object"]["amount_refunded"] = json!(refunded);
        event["data"]["object"]["refunded"] = json!(false);
        event
    };
    assert_eq!(send(server, &early_part("evt_refund_9a", 250), NEW_SECRET).await.data()["result"], "ignored");
    assert_eq!(send(server, &early_part("evt_refund_9b", 301), NEW_SECRET).await.data()["result"], "ignored");
    assert_eq!(send(server, &early_part("evt_refund_9a", 250), NEW_SECRET).await.data()["result"], "replayed");
    assert_eq!(send(server, &early_part("evt_refund_9c", 200), NEW_SECRET).await.status, 200, "an older total");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200, "nothing to take back before the grant");
    let late = session_event("evt_paid_9", "checkout.session.completed", &user, "pi_9", "paid");
    assert_eq!(send(server, &late, NEW_SECRET).await.data()["result"], "granted");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 239, "301 of 500 cents refunded: 39 of 100 credits");
    let entry = last_entry(server, &token).await;
    assert_eq!((entry["kind"].as_str(), entry["credits"].as_i64()), (Some("grant"), Some(39)), "{entry}");
    let again = session_event("evt_async_9", "checkout.session.async_payment_succeeded", &user, "pi_9", "paid");
    assert_eq!(send(server, &again, NEW_SECRET).await.status, 200);
    assert_eq!(balance(server, &token).await, ALLOWANCE + 239, "a payment grants once");
    let full = charge_event("evt_refund_9d", "charge.refunded", "pi_9");
    assert_eq!(send(server, &full, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, ALLOWANCE + 200, "the rest, when refunded in full");

    // Spent, then refunded: the balance may go negative until the next grant.
    let spend = session_event("evt_paid_5", "checkout.session.completed", &user, "pi_5", "paid");
    assert_eq!(send(server, &spend, NEW_SECRET).await.status, 200);
    let all = balance(server, &token).await;
    let user_id = UserId::from_trusted(&user);
    whatif_shared::credits::admin_grant(&server.ctx, &user_id, -(all - 50), "test: spend down", Vec::new())
        .await
        .unwrap();
    assert_eq!(balance(server, &token).await, 50);
    let disputed = charge_event("evt_dispute_5", "charge.dispute.created", "pi_5");
    assert_eq!(send(server, &disputed, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, -50);
    let refused = post(server, "/api/generate", Some(&token), json!({"topic": "What if debts were forgiven?"})).await;
    assert_eq!(refused.status, 402, "{refused:?}");

    // A premium pack puts the account on the premium plan; its refund takes the plan back too.
    let mut premium = session_event("evt_paid_7", "checkout.session.completed", &user, "pi_7", "paid");
    premium["data"]["object"]["metadata"]["pack"] = json!("large");
    assert_eq!(send(server, &premium, NEW_SECRET).await.data()["result"], "granted");
    let now_premium = credits(server, &token).await;
    assert_eq!((now_premium["plan"].as_str(), now_premium["balance"].as_i64()), (Some("premium"), Some(1950)));
    let refund = charge_event("evt_refund_7", "charge.refunded", "pi_7");
    assert_eq!(send(server, &refund, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(credits(server, &token).await["plan"], "free");

    // Refunded in parts: each refund takes back its share of the pack (Stripe's
    // amount_refunded is the total so far), rounded up; the last one the rest.
    let before = balance(server, &token).await;
    let pack = session_event("evt_paid_8", "checkout.session.completed", &user, "pi_8", "paid");
    assert_eq!(send(server, &pack, NEW_SECRET).await.data()["result"], "granted");
    let partial = |id: &str, refunded: i64| {
        let mut event = charge_event(id, "charge.refunded", "pi_8");
        event["data"]["object"]["amount_refunded"] = json!(refunded);
        event["data"]["object"]["refunded"] = json!(false);
        event
    };
    let reversal = |entry: &Value| (entry["kind"].as_str().map(str::to_string), entry["credits"].as_i64());
    let half = partial("evt_refund_8a", 250);
    assert_eq!(send(server, &half, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, before + 50, "half of 500 cents takes back half of 100 credits");
    assert_eq!(reversal(&last_entry(server, &token).await), (Some("reversal".into()), Some(-50)));
    assert_eq!(send(server, &half, NEW_SECRET).await.data()["result"], "replayed");
    assert_eq!(send(server, &partial("evt_refund_8b", 301), NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, before + 39, "301 of 500 cents: 61 credits in all, rounded up");
    let full = charge_event("evt_refund_8c", "charge.refunded", "pi_8");
    assert_eq!(send(server, &full, NEW_SECRET).await.data()["result"], "taken-back");
    assert_eq!(balance(server, &token).await, before, "the rest, once refunded in full");
    assert_eq!(reversal(&last_entry(server, &token).await), (Some("reversal".into()), Some(-39)));
    let dispute = charge_event("evt_dispute_8", "charge.dispute.created", "pi_8");
    assert_eq!(send(server, &dispute, NEW_SECRET).await.status, 200);
    assert_eq!(balance(server, &token).await, before, "nothing is left to take back");

    // Unknown types: 200, nothing changes. Not an event: 400.
    let unknown = json!({"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}});
    let answer = send(server, &unknown, NEW_SECRET).await;
    assert_eq!((answer.status, answer.data()["result"].as_str()), (200, Some("ignored")), "{answer:?}");
    let junk = send(server, &json!({"hello": "world"}), NEW_SECRET).await;
    assert_eq!(junk.status, 400, "{junk:?}");
    let bad_account = session_event("evt_bad", "checkout.session.completed", "not-an-id", "pi_6", "paid");
    assert_eq!(send(server, &bad_account, NEW_SECRET).await.status, 400);
    assert_eq!(balance(server, &token).await, -50);
}

#[tokio::test]
async fn the_webhook_applies_genuine_events_once_on_the_embedded_backend() {
    let stripe = FakeStripe::start().await;
    let (server, _dir) = embedded(&stripe, ALLOWANCE).await;
    webhook_attacks(&server).await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// The AWS adapters.

#[tokio::test]
async fn credits_on_the_aws_adapters() {
    let (Some(dynamodb), Some(moto)) =
        (emulator_endpoint("WHATIF_TEST_DYNAMODB_URL"), emulator_endpoint("WHATIF_TEST_MOTO_URL"))
    else {
        return;
    };
    let stripe = FakeStripe::start().await;
    let (server, _data) =
        whatif_tests::start_on_emulators(&dynamodb, &moto, configure(&stripe.base_url, ALLOWANCE)).await;
    set_stripe_keys(&server).await;
    every_spending_route_debits(&server).await;
    refunds_and_double_delivery(&server).await;
    webhook_attacks(&server).await;
    let (token, user) = sign_up(&server, "aws-racer").await;
    let user_id = UserId::from_trusted(&user);
    whatif_shared::credits::admin_grant(&server.ctx, &user_id, 10 - ALLOWANCE, "test: credits for ten", Vec::new())
        .await
        .unwrap();
    fifty_at_once(&server, &token).await;
    server.stop().await;
}
