//! Profiles over HTTP, on the embedded backend and on the AWS adapters
//! (DynamoDB Local and moto): following (never oneself, counted exactly
//! under a race of follows and repeats), public profiles and their privacy,
//! profile search (case and Vietnamese diacritics ignored), leaderboards,
//! notifications (unread first, marked read by id or all, a burst of likes
//! gathered into one), achievements earned from real events, and what the
//! account's deletion and export do with all of it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::UserId;
use whatif_shared::accounts::roles::{self, Change};
use whatif_shared::accounts::user::AccountStatus;
use whatif_shared::audit::Actor;
use whatif_shared::keys;
use whatif_shared::ports::table::{Index, Item, PK, Query, SK, Update};
use whatif_shared::ratelimit::RateLimits;
use whatif_shared::social::notify::{self, Kind, Notice};
use whatif_shared::social::stats::{Board, CARD};
use whatif_tests::api::{self, Answer, get, post, sign_up};
use whatif_tests::{TestServer, emulator_endpoint, unique_suffix, wait_until};

const LIMITS: &str = "auth=1000/15m,general=100000/15m,generate=100000/1h,write-social=100000/15m";

async fn put(server: &TestServer, path: &str, token: &str, body: Value) -> Answer {
    api::send(server, Method::PUT, path, Some(token), Some(body), &[]).await
}

async fn delete(server: &TestServer, path: &str, token: Option<&str>) -> Answer {
    api::send(server, Method::DELETE, path, token, None, &[]).await
}

struct Person {
    token: String,
    id: String,
}

async fn person(server: &TestServer, tag: &str) -> Person {
    let (token, id) = sign_up(server, &format!("{tag}-{}", unique_suffix())).await;
    Person { token, id }
}

/// Names the account: a username and a display name.
async fn name(server: &TestServer, who: &Person, username: &str, display: &str) {
    let answer =
        put(server, "/api/users/profile", &who.token, json!({"username": username, "displayName": display})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

async fn follow(server: &TestServer, who: &Person, whom: &str) -> Answer {
    post(server, &format!("/api/profiles/{whom}/follow"), Some(&who.token), json!({})).await
}

async fn profile(server: &TestServer, username: &str) -> Answer {
    get(server, &format!("/api/profiles/username/{username}"), None).await
}

async fn search(server: &TestServer, q: &str) -> Vec<String> {
    let answer = get(server, &format!("/api/profiles/search?q={}", urlencode(q)), None).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    ids(&answer.data()["profiles"])
}

fn urlencode(q: &str) -> String {
    q.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
}

async fn notifications(server: &TestServer, who: &Person, query: &str) -> Value {
    let answer = get(server, &format!("/api/notifications?{query}"), Some(&who.token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data().clone()
}

async fn achievements(server: &TestServer, who: &Person) -> Vec<Value> {
    let answer = get(server, "/api/achievements/my", Some(&who.token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["achievements"].as_array().unwrap().clone()
}

fn earned(list: &[Value], code: &str) -> bool {
    list.iter().any(|a| a["code"] == code && a["earnedAt"].is_string())
}

/// Achievements are written after the answer's transaction; wait for one.
async fn wait_earned(server: &TestServer, who: &Person, code: &str) -> Vec<Value> {
    for _ in 0..50 {
        let list = achievements(server, who).await;
        if earned(&list, code) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{code} was never earned");
}

async fn generate(server: &TestServer, who: &Person, topic: &str) -> String {
    let answer =
        post(server, "/api/generate", Some(&who.token), json!({"topic": topic, "options": {"length": "short"}})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["scenario"]["id"].as_str().unwrap().to_string()
}

/// Everything profiles do, the same on every backend.
async fn profiles_life(server: &TestServer) {
    let star = person(server, "star").await;
    let fan = person(server, "fan").await;
    let suffix = name_suffix();
    let star_name = format!("Lan{}", &suffix[..suffix.len().min(12)]);
    name(server, &star, &star_name, &format!("Lan Nguyễn {suffix}")).await;

    // Following: not oneself, not an account that is not there, not anonymously.
    assert_eq!(follow(server, &star, &star.id).await.status, 422);
    assert_eq!(follow(server, &fan, &ulid_nobody()).await.status, 404);
    let anonymous = post(server, &format!("/api/profiles/{}/follow", star.id), None, json!({})).await;
    assert_eq!(anonymous.status, 401);
    let first = follow(server, &fan, &star.id).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.data()["following"], true);
    assert_eq!(first.data()["followers"], 1);
    let again = follow(server, &fan, &star.id).await;
    assert_eq!(again.data()["followers"], 1, "following again changes nothing");

    // A race: 30 new accounts follow at once, while the fan repeats 10 times.
    let mut crowd = Vec::new();
    for i in 0..30 {
        crowd.push(person(server, &format!("crowd{i}")).await);
    }
    let follows = crowd.iter().map(|p| follow(server, p, &star.id));
    let repeats = (0..10).map(|_| follow(server, &fan, &star.id));
    let answers = futures::future::join_all(follows.chain(repeats)).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().find(|a| a.status != 200));
    let shown = profile(server, &star_name.to_uppercase()).await;
    assert_eq!(shown.status, 200, "the username's case does not matter: {shown:?}");
    assert_eq!(shown.data()["profile"]["stats"]["followers"], 31, "exact under the race");
    assert_eq!(shown.data()["profile"]["id"], star.id.as_str());
    assert!(shown.body.to_string().find("@example.com").is_none(), "no email on a public profile");
    let fan_follows = get(server, &format!("/api/profiles/{}/follows?type=following", fan.id), None).await;
    assert_eq!(fan_follows.data()["pagination"]["total"], 1);
    assert_eq!(fan_follows.data()["users"][0]["user"]["id"], star.id.as_str());

    // The followers list pages by cursor without skipping or repeating.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/profiles/{}/follows?limit=7&cursor={c}", star.id),
            None => format!("/api/profiles/{}/follows?limit=7", star.id),
        };
        let page = get(server, &path, None).await;
        assert_eq!(page.status, 200, "{page:?}");
        assert_eq!(page.data()["pagination"]["total"], 31);
        seen.extend(page.data()["users"].as_array().unwrap().iter().map(|u| u["user"]["id"].clone()));
        match page.data()["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let distinct: std::collections::HashSet<String> = seen.iter().map(|v| v.to_string()).collect();
    assert_eq!((seen.len(), distinct.len()), (31, 31), "every follower once");

    // Search: case and diacritics ignored, words in any order, prefixes of words.
    for q in ["nguyen", "NGUYỄN", "lan nguy", &star_name.to_lowercase(), &suffix[..4]] {
        assert!(search(server, q).await.contains(&star.id), "{q} finds the star");
    }
    assert!(!search(server, "nguyen zzzzqqq").await.contains(&star.id), "every word must match");
    assert_eq!(get(server, "/api/profiles/search?q=x", None).await.status, 400, "one character is too short");
    assert_eq!(get(server, "/api/profiles/search", None).await.status, 400);

    // Notifications: one per new follower, none for a repeat, unread first.
    let inbox = notifications(server, &star, "limit=100").await;
    assert_eq!(inbox["unreadCount"], 31, "{inbox}");
    assert_eq!(inbox["pagination"]["total"], 31);
    let all = inbox["notifications"].as_array().unwrap();
    assert!(all.iter().all(|n| n["type"] == "follow" && n["read"] == false));
    let two: Vec<Value> = all.iter().take(2).map(|n| n["id"].clone()).collect();
    let marked = post(server, "/api/notifications/read", Some(&star.token), json!({"ids": two})).await;
    assert_eq!(marked.status, 200, "{marked:?}");
    assert_eq!((marked.data()["marked"].clone(), marked.data()["unreadCount"].clone()), (json!(2), json!(29)));
    let again = post(server, "/api/notifications/read", Some(&star.token), json!({"ids": two})).await;
    assert_eq!(again.data()["marked"], 0, "marking twice changes nothing");
    let inbox = notifications(server, &star, "limit=100").await;
    let order: Vec<bool> =
        inbox["notifications"].as_array().unwrap().iter().map(|n| n["read"].as_bool().unwrap()).collect();
    assert_eq!(order.iter().filter(|r| **r).count(), 2);
    assert!(order.windows(2).all(|w| !w[0] || w[1]), "unread ones come first: {order:?}");
    assert_eq!(notifications(server, &star, "unreadOnly=true&limit=100").await["pagination"]["total"], 29);
    let bad = post(server, "/api/notifications/read", Some(&star.token), json!({"ids": ["nope"]})).await;
    assert_eq!(bad.status, 400);
    let neither = post(server, "/api/notifications/read", Some(&star.token), json!({})).await;
    assert_eq!(neither.status, 400);
    let others = post(server, "/api/notifications/read", Some(&fan.token), json!({"ids": [all[5]["id"]]})).await;
    assert_eq!(others.data()["marked"], 0, "nobody marks someone else's notifications");
    assert_eq!(notifications(server, &fan, "").await["pagination"]["total"], 0, "the fan's own follow made none");

    // A burst of likes of one target becomes one notification that counts them.
    let target = server.ctx.ids.ulid().to_string();
    let star_id = UserId::from_trusted(&star.id);
    let likes = crowd.iter().take(20).map(|p| {
        let notice = Notice {
            kind: Kind::Like,
            actor: Some(UserId::from_trusted(&p.id)),
            target_type: "post",
            target_id: target.clone(),
            post_id: Some(target.clone()),
            text: None,
        };
        notify::send(&server.ctx, &star_id, notice)
    });
    futures::future::join_all(likes).await;
    let own = Notice {
        kind: Kind::Like,
        actor: Some(star_id.clone()),
        target_type: "post",
        target_id: target.clone(),
        post_id: None,
        text: None,
    };
    notify::send(&server.ctx, &star_id, own).await;
    let inbox = notifications(server, &star, "unreadOnly=true&limit=100").await;
    let gathered: Vec<&Value> =
        inbox["notifications"].as_array().unwrap().iter().filter(|n| n["type"] == "like").collect();
    let total: u64 = gathered.iter().map(|n| n["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 20, "every like counted once, one's own not at all");
    assert!(gathered.len() <= 2, "a burst is not a burst of notifications: {gathered:?}");
    let everything = post(server, "/api/notifications/read", Some(&star.token), json!({"all": true})).await;
    assert_eq!(everything.data()["unreadCount"], 0, "{everything:?}");

    // Achievements: from what happened, with when.
    let list = wait_earned(server, &star, "ten_followers").await;
    assert!(earned(&list, "first_follower"));
    assert!(!earned(&list, "first_post"));
    let progress = list.iter().find(|a| a["code"] == "ten_scenarios").unwrap();
    assert_eq!(progress["progress"], json!({"current": 0, "target": 10}));
    generate(server, &fan, "What if owls ran the night bus?").await;
    let fans = wait_earned(server, &fan, "first_scenario").await;
    assert!(fans.iter().any(|a| a["code"] == "ten_scenarios" && a["progress"]["current"] == 1));
    let scenario = generate(server, &fan, "What if the sea were sweet?").await;
    let shared = post(server, &format!("/api/share/{scenario}"), Some(&fan.token), json!({})).await;
    assert_eq!(shared.status, 201, "{shared:?}");
    wait_earned(server, &fan, "first_share").await;

    // Leaderboards: a row per account, by score; the star leads on reputation.
    let board = get(server, "/api/profiles/leaderboard?by=reputation&limit=100", None).await;
    assert_eq!(board.status, 200, "{board:?}");
    let entries = board.data()["entries"].as_array().unwrap().clone();
    let star_entry = entries.iter().find(|e| e["user"]["id"] == star.id.as_str()).expect("the star is on the board");
    assert_eq!(star_entry["score"], 310, "10 per follower");
    let scores: Vec<u64> = entries.iter().map(|e| e["score"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first: {scores:?}");
    let by_scenarios = get(server, "/api/profiles/leaderboard?by=scenarios&limit=100", None).await;
    assert!(
        !by_scenarios.data()["entries"].as_array().unwrap().iter().any(|e| e["user"]["id"] == fan.id.as_str()),
        "a profile without a name is not on a board"
    );
    assert_eq!(get(server, "/api/profiles/leaderboard?by=money", None).await.status, 400);

    // A private profile is gone from every public route, and cannot be followed.
    let private = json!({"preferences": {"publicProfile": false}});
    assert_eq!(put(server, "/api/users/profile", &star.token, private).await.status, 200);
    assert_eq!(profile(server, &star_name).await.status, 404);
    assert_eq!(get(server, &format!("/api/profiles/{}/follows", star.id), None).await.status, 404);
    assert!(!search(server, "nguyen").await.contains(&star.id));
    let board = get(server, "/api/profiles/leaderboard?limit=100", None).await;
    assert!(!board.body.to_string().contains(&star.id), "not on the leaderboard");
    let newcomer = person(server, "newcomer").await;
    assert_eq!(follow(server, &newcomer, &star.id).await.status, 404);
    // ... but a follower can still stop following it.
    let left = delete(server, &format!("/api/profiles/{}/follow", star.id), Some(&fan.token)).await;
    assert_eq!(left.status, 200, "{left:?}");
    assert_eq!((left.data()["following"].clone(), left.data()["followers"].clone()), (json!(false), json!(30)));
    let twice = delete(server, &format!("/api/profiles/{}/follow", star.id), Some(&fan.token)).await;
    assert_eq!(twice.data()["followers"], 30, "unfollowing twice changes nothing");
    let public = json!({"preferences": {"publicProfile": true}});
    assert_eq!(put(server, "/api/users/profile", &star.token, public).await.status, 200);
    assert_eq!(profile(server, &star_name).await.data()["profile"]["stats"]["followers"], 30);

    // The boards show an account as its profile is now: a new name, a ban
    // and its lifting, each at once.
    let shown = board_entry(server, &star.id).await.expect("back on the board");
    assert_eq!(shown["user"]["name"], format!("Lan Nguyễn {suffix}"));
    name(server, &star, &star_name, &format!("Lan Renamed {suffix}")).await;
    let shown = board_entry(server, &star.id).await.expect("on the board");
    assert_eq!(
        (shown["user"]["name"].clone(), shown["score"].clone()),
        (json!(format!("Lan Renamed {suffix}")), json!(300))
    );
    let rival = person(server, "rival").await;
    name(server, &rival, &format!("rival{}", &suffix[..suffix.len().min(12)]), "Rival").await;
    assert_eq!(follow(server, &fan, &rival.id).await.status, 200);
    assert_eq!(board_entry(server, &rival.id).await.expect("on the board")["user"]["name"], "Rival");
    set_status(server, &rival.id, AccountStatus::Banned, None).await;
    assert_eq!(board_entry(server, &rival.id).await, None, "a banned account is off the boards");
    set_status(server, &rival.id, AccountStatus::Active, None).await;
    assert!(board_entry(server, &rival.id).await.is_some(), "and back when the ban is lifted");

    // A follower's deletion takes its follow off the star's count; the star's
    // own deletion takes it off every follower's, and out of search.
    let leaver = &crowd[0];
    let body = json!({"password": api::PASSWORD});
    let closing =
        api::send(server, Method::DELETE, "/api/users/delete-account", Some(&leaver.token), Some(body.clone()), &[])
            .await;
    assert_eq!(closing.status, 202, "{closing:?}");
    wait_until("the follower's deletion counts", || async {
        profile(server, &star_name).await.data()["profile"]["stats"]["followers"] == 29
    })
    .await;
    let closing =
        api::send(server, Method::DELETE, "/api/users/delete-account", Some(&star.token), Some(body), &[]).await;
    assert_eq!(closing.status, 202, "{closing:?}");
    assert_eq!(board_entry(server, &star.id).await, None, "a closed account leaves the boards with its close");
    let follower = &crowd[1];
    wait_until("the star's deletion counts", || async {
        get(server, &format!("/api/profiles/{}/follows?type=following", follower.id), None).await.data()["pagination"]
            ["total"]
            == 0
    })
    .await;
    assert!(!search(server, &star_name).await.contains(&star.id));
}

/// `user`'s entry on the reputation board, if it is there.
async fn board_entry(server: &TestServer, user: &str) -> Option<Value> {
    let board = get(server, "/api/profiles/leaderboard?by=reputation&limit=100", None).await;
    assert_eq!(board.status, 200, "{board:?}");
    board.data()["entries"].as_array().unwrap().iter().find(|e| e["user"]["id"] == user).cloned()
}

/// A moderator's decision on the account `user` (a suspension's end in epoch seconds).
async fn set_status(server: &TestServer, user: &str, status: AccountStatus, until: Option<i64>) {
    let change = Change { role: None, status: Some((status, until)) };
    roles::apply(&server.ctx, &Actor::system(), &UserId::from_trusted(user), &change, Some("user.status"), None, None)
        .await
        .expect("a status");
}

/// A server on the embedded backend with this file's limits, and its data
/// directory (kept while the server runs).
async fn embedded() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse(LIMITS).unwrap();
    let server = TestServer::start_in(dir.path(), |config| config.rate_limits = limits).await;
    (server, dir)
}

/// A unique suffix of letters and digits only (for usernames).
fn name_suffix() -> String {
    unique_suffix().replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

fn ulid_nobody() -> String {
    "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_string()
}

#[tokio::test]
async fn profiles_follows_notifications_and_achievements_work_on_the_embedded_backend() {
    let (server, _dir) = embedded().await;
    profiles_life(&server).await;
}

#[tokio::test]
async fn profiles_follows_notifications_and_achievements_work_on_dynamodb_local_and_moto() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let limits = RateLimits::parse(LIMITS).unwrap();
    let (server, _data) = whatif_tests::start_on_emulators(&dynamodb, &moto, |c| c.rate_limits = limits).await;
    profiles_life(&server).await;
    server.stop().await;
}

/// The export of an account carries its follows, counters, achievements and notifications.
#[tokio::test]
async fn the_account_export_carries_the_social_graph() {
    let (server, _dir) = embedded().await;
    let a = person(&server, "exporter").await;
    let b = person(&server, "followed").await;
    assert_eq!(follow(&server, &a, &b.id).await.status, 200);
    assert_eq!(follow(&server, &b, &a.id).await.status, 200);
    wait_earned(&server, &a, "first_follower").await;
    let started = get(&server, "/api/users/export", Some(&a.token)).await;
    assert_eq!(started.status, 202, "{started:?}");
    let job = api::finished(&server, &a.token, started.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let url = job["result"]["file"]["downloadUrl"].as_str().expect("a download link").to_string();
    let zip = server.http.get(&url).send().await.unwrap().bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    let social: Value =
        serde_json::from_str(&std::io::read_to_string(archive.by_name("social-graph/social.json").unwrap()).unwrap())
            .unwrap();
    assert_eq!(social["following"][0]["followeeId"], b.id.as_str());
    assert_eq!(social["followers"][0]["followerId"], b.id.as_str());
    assert_eq!(social["counters"]["followers"], 1);
    assert!(social["achievements"].as_array().unwrap().iter().any(|x| x["code"] == "first_follower"));
    assert_eq!(social["notifications"][0]["type"], "follow");
}

/// A leaderboard row written before rows held cards still shows its
/// account (read from the account), and the next change of its counters
/// gives it its card.
#[tokio::test]
async fn a_leaderboard_row_from_before_cards_shows_its_account_and_gets_its_card() {
    let (server, _dir) = embedded().await;
    let elder = person(&server, "elder").await;
    let suffix = name_suffix();
    name(&server, &elder, &format!("elder{}", &suffix[..suffix.len().min(12)]), "Old Timer").await;
    let first = person(&server, "first").await;
    assert_eq!(follow(&server, &first, &elder.id).await.status, 200);
    let elder_id = UserId::from_trusted(&elder.id);
    for board in Board::ALL {
        let row = keys::board_row(&elder_id, board.name());
        server.ctx.table.update(&row, Update::new().remove(CARD), None).await.unwrap();
    }
    let shown = board_entry(&server, &elder.id).await.expect("on the board");
    assert_eq!((shown["user"]["name"].clone(), shown["score"].clone()), (json!("Old Timer"), json!(10)));

    let second = person(&server, "second").await;
    assert_eq!(follow(&server, &second, &elder.id).await.status, 200);
    let row = keys::board_row(&elder_id, Board::Reputation.name());
    wait_until("the row has its card again", || async {
        server.ctx.table.get(&row).await.unwrap().is_some_and(|r| r.get(CARD).is_some_and(|c| c["name"] == "Old Timer"))
    })
    .await;
    assert_eq!(board_entry(&server, &elder.id).await.unwrap()["score"], 20);
}

/// A suspension whose time ran out ends at the account's next sign-in: its
/// profile and its place on the boards come back then, not before.
#[tokio::test]
async fn a_suspension_that_ran_out_ends_at_the_next_sign_in() {
    let (server, _dir) = embedded().await;
    let tag = format!("lapsed-{}", unique_suffix());
    let (token, id) = sign_up(&server, &tag).await;
    let lapsed = Person { token, id };
    let username = format!("lapsed{}", name_suffix());
    name(&server, &lapsed, &username, "Back Again").await;
    let fan = person(&server, "fan").await;
    assert_eq!(follow(&server, &fan, &lapsed.id).await.status, 200);
    assert!(board_entry(&server, &lapsed.id).await.is_some());

    let now = server.ctx.clock.epoch_seconds();
    set_status(&server, &lapsed.id, AccountStatus::Suspended, Some(now + 3600)).await;
    assert_eq!(board_entry(&server, &lapsed.id).await, None);
    // Its time runs out: it may sign in, but stays hidden until it does.
    set_status(&server, &lapsed.id, AccountStatus::Suspended, Some(now - 1)).await;
    assert_eq!(profile(&server, &username).await.status, 404);
    assert_eq!(board_entry(&server, &lapsed.id).await, None);

    let email = format!("{tag}.{}@example.com", std::process::id());
    let login = post(&server, "/api/auth/login", None, json!({"email": email, "password": api::PASSWORD})).await;
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(profile(&server, &username).await.status, 200);
    assert_eq!(board_entry(&server, &lapsed.id).await.expect("back on the board")["user"]["name"], "Back Again");
    let me = get(&server, "/api/users/profile", Some(login.data()["accessToken"].as_str().unwrap())).await;
    assert_eq!(me.status, 200, "the new session works: {me:?}");
}

/// The hourly sweep ends the suspensions whose time ran out (for accounts
/// that do not sign in again), leaves the others, and drops a listed
/// suspension its account is no longer under.
#[tokio::test]
async fn the_hourly_sweep_ends_the_suspensions_whose_time_ran_out() {
    let (server, _dir) = embedded().await;
    let fan = person(&server, "fan").await;
    let mut people = Vec::new();
    for tag in ["done", "serving"] {
        let who = person(&server, tag).await;
        name(&server, &who, &format!("{tag}{}", name_suffix()), tag).await;
        assert_eq!(follow(&server, &fan, &who.id).await.status, 200);
        people.push(who);
    }
    let (done, serving) = (&people[0], &people[1]);
    let now = server.ctx.clock.epoch_seconds();
    set_status(&server, &done.id, AccountStatus::Suspended, Some(now + 3600)).await;
    set_status(&server, &done.id, AccountStatus::Suspended, Some(now - 1)).await;
    set_status(&server, &serving.id, AccountStatus::Suspended, Some(now + 3600)).await;
    let stray = keys::suspension(now - 5, &UserId::from_trusted(&fan.id));
    let mut item = Item::new();
    item.insert(PK.into(), json!(stray.pk));
    item.insert(SK.into(), json!(stray.sk));
    item.insert("userId".into(), json!(fan.id));
    server.ctx.table.put(item, None).await.unwrap();
    assert_eq!(board_entry(&server, &done.id).await, None);

    assert_eq!(roles::end_run_out_suspensions(&server.ctx).await.unwrap(), 1);
    assert_eq!(board_entry(&server, &done.id).await.expect("back on the board")["user"]["name"], "done");
    assert_eq!(board_entry(&server, &serving.id).await, None, "still suspended");
    let listed = server.ctx.table.query(&Query::partition(Index::Primary, keys::SUSPENSIONS)).await.unwrap();
    let users: Vec<&str> = listed.items.iter().filter_map(|i| i["userId"].as_str()).collect();
    assert_eq!(users, [serving.id.as_str()], "only the suspension still running is listed");
    assert_eq!(roles::end_run_out_suspensions(&server.ctx).await.unwrap(), 0, "nothing more to end");
}
