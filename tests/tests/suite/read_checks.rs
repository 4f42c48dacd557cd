//! A read route runs its handler alongside the request's checks (the
//! rate-limit count and the account status read, `pipeline::alongside`):
//! the checks still decide the answer, what the handler read is dropped
//! when they refuse, and nothing changes for a refused request.

use serde_json::json;
use whatif_shared::auth::Role;
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::TestServer;
use whatif_tests::api::{self, PASSWORD};

/// A server whose `general` limit is `max` requests per caller.
async fn server(dir: &tempfile::TempDir, max: u32) -> TestServer {
    let limits = RateLimits::parse(&format!("general={max}/15m")).expect("valid limits");
    TestServer::start_in(dir.path(), |config| {
        config.rate_limits = limits;
        config.cost_header = true;
    })
    .await
}

/// An account `<tag>@example.com`, signed in: its token and id.
async fn account(server: &TestServer, tag: &str) -> (String, String) {
    let email = format!("{tag}@example.com");
    let answer = api::post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 201, "register {tag}: {answer:?}");
    let token = answer.data()["accessToken"].as_str().expect("a token").to_string();
    (token, answer.data()["user"]["id"].as_str().expect("an id").to_string())
}

async fn sign_in(server: &TestServer, tag: &str) -> String {
    let body = json!({"email": format!("{tag}@example.com"), "password": PASSWORD});
    let answer = api::post(server, "/api/auth/login", None, body).await;
    assert_eq!(answer.status, 200, "sign in {tag}: {answer:?}");
    answer.data()["accessToken"].as_str().expect("a token").to_string()
}

/// The owner's new public scenario: its id and topic.
async fn public_scenario(server: &TestServer, owner: &str) -> (String, String) {
    let topic = "What if rivers ran uphill?";
    let made =
        api::post(server, "/api/generate", Some(owner), json!({"topic": topic, "options": {"length": "short"}})).await;
    assert_eq!(made.status, 200, "{made:?}");
    let id = made.data()["scenario"]["id"].as_str().expect("an id").to_string();
    let public = api::patch(server, &format!("/api/scenarios/{id}"), Some(owner), json!({"isPublic": true})).await;
    assert_eq!(public.status, 200, "{public:?}");
    (id, topic.to_string())
}

async fn view_count(server: &TestServer, owner: &str, id: &str) -> i64 {
    let own = api::get(server, &format!("/api/scenarios/{id}"), Some(owner)).await;
    assert_eq!(own.status, 200, "{own:?}");
    own.data()["scenario"]["viewCount"].as_i64().expect("a view count")
}

#[tokio::test]
async fn a_reader_over_the_limit_gets_429_and_its_view_is_not_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 3).await;
    let (owner, _) = account(&server, "reads-owner").await;
    let (id, topic) = public_scenario(&server, &owner).await;
    let (reader, _) = account(&server, "reads-reader").await;
    for _ in 0..3 {
        assert_eq!(api::get(&server, "/api/users/profile", Some(&reader)).await.status, 200);
    }
    let refused = api::get(&server, &format!("/api/scenarios/{id}"), Some(&reader)).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(refused.code(), "RATE_LIMITED");
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    let text = String::from_utf8_lossy(&refused.bytes);
    assert!(!text.contains(&topic) && !text.contains("viewCount"), "what the handler read is dropped: {text}");
    assert_eq!(view_count(&server, &owner, &id).await, 0, "a refused view changes nothing");
}

#[tokio::test]
async fn a_banned_reader_s_live_token_reads_nothing_and_counts_no_view() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 1000).await;
    let (owner, _) = account(&server, "banned-owner").await;
    let (id, topic) = public_scenario(&server, &owner).await;
    let (reader, reader_id) = account(&server, "banned-reader").await;
    let (_, admin_id) = account(&server, "banned-admin").await;
    whatif_tests::promote(&server, &admin_id, Role::Admin).await;
    let admin = sign_in(&server, "banned-admin").await;
    let ban = json!({"status": "banned", "note": "read checks"});
    let banned = api::patch(&server, &format!("/api/admin/users/{reader_id}"), Some(&admin), ban).await;
    assert_eq!(banned.status, 200, "{banned:?}");

    let refused = api::get(&server, &format!("/api/scenarios/{id}"), Some(&reader)).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.code(), "ACCOUNT_BANNED");
    assert!(!String::from_utf8_lossy(&refused.bytes).contains(&topic), "what the handler read is dropped");
    assert_eq!(view_count(&server, &owner, &id).await, 0, "a refused view changes nothing");
}

#[tokio::test]
async fn a_role_changed_since_the_token_counts_as_it_is_now() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 1000).await;
    // Promoted after signing in: the token says user, the account says moderator.
    let (token, id) = account(&server, "promoted-reviewer").await;
    whatif_tests::promote(&server, &id, Role::Moderator).await;
    let queue = api::get(&server, "/api/admin/reports?status=open", Some(&token)).await;
    assert_eq!(queue.status, 200, "the promotion applies from the next request: {queue:?}");

    // Demoted after signing in as a moderator: the token says moderator, the account says user.
    let (_, id) = account(&server, "demoted-reviewer").await;
    whatif_tests::promote(&server, &id, Role::Moderator).await;
    let token = sign_in(&server, "demoted-reviewer").await;
    assert_eq!(api::get(&server, "/api/admin/reports?status=open", Some(&token)).await.status, 200);
    whatif_tests::promote(&server, &id, Role::User).await;
    let refused = api::get(&server, "/api/admin/reports?status=open", Some(&token)).await;
    assert_eq!(refused.status, 403, "the demotion applies from the next request: {refused:?}");
    assert!(refused.body.get("data").is_none(), "nothing of the queue: {refused:?}");
}

#[tokio::test]
async fn an_owner_reading_a_scenario_waits_for_one_table_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 1000).await;
    let (owner, _) = account(&server, "one-trip-owner").await;
    let (id, _) = public_scenario(&server, &owner).await;
    let read = api::get(&server, &format!("/api/scenarios/{id}"), Some(&owner)).await;
    assert_eq!(read.status, 200);
    // The status item and the scenario in one BatchGetItem, the rate-limit count beside it.
    assert_eq!(
        read.header("x-whatif-cost"),
        Some("reads=1;writes=1;transactions=0;round-trips=1;blobs=0;queue=0;secrets=0")
    );
}

/// `token` with one character of its signature changed.
fn tampered(token: &str) -> String {
    let at = token.rfind('.').expect("a signature") + 10;
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

#[tokio::test]
async fn a_bad_signature_on_a_process_s_first_read_counts_nothing_for_the_account_it_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 50).await;
    // Signing up verifies no token: the keys are not loaded yet when the forged token comes.
    let (token, _) = account(&server, "first-read").await;
    let refused = api::get(&server, "/api/users/profile", Some(&tampered(&token))).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.code(), "TOKEN_INVALID");
    assert!(refused.body.get("data").is_none());
    let mine = api::get(&server, "/api/users/profile", Some(&token)).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.header("x-ratelimit-remaining"), Some("49"), "only the account's own request counts");
}

#[tokio::test]
async fn a_process_s_first_read_loads_the_keys_in_its_one_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 50).await;
    let (token, _) = account(&server, "cold-read").await;
    let read = api::get(&server, "/api/users/profile", Some(&token)).await;
    assert_eq!(read.status, 200, "{read:?}");
    // The published keys, the status and the account in one BatchGetItem; the count beside it.
    assert_eq!(
        read.header("x-whatif-cost"),
        Some("reads=1;writes=1;transactions=0;round-trips=1;blobs=0;queue=0;secrets=0")
    );
}

/// A route that checks first (a spending `GET`: its checks, then its handler).
#[tokio::test]
async fn a_process_s_first_checked_request_reads_the_keys_beside_the_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server(&dir, 50).await;
    let (token, _) = account(&server, "cold-checked").await;
    let cost = |answer: &api::Answer| -> whatif_shared::metering::Cost {
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.header("x-whatif-cost").expect("a cost").parse().expect("a cost")
    };
    // A topic without its scenario: the checks alone touch the table.
    let path = "/api/random?generate=false";
    let first = cost(&api::get(&server, path, Some(&token)).await);
    let again = cost(&api::get(&server, path, Some(&token)).await);
    assert_eq!(first.reads, again.reads + 1, "the published keys are read once, by the first request");
    assert_eq!(first.round_trips, again.round_trips, "and beside the status, not before it: {first} / {again}");
}
