//! What an account owns goes with it, over HTTP through the local server: the
//! data export carries its scenarios, and deleting the account removes them
//! with every item and file that came with them (avatars and uploads waiting
//! under `tmp/` too), while other accounts keep theirs.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use whatif_generation::routes::job;
use whatif_shared::UserId;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobStatus, records};
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, Index, Query, SortKey, TxOp, Update};
use whatif_shared::ratelimit::RateLimits;
use whatif_shared::scenarios::types::{GenerationOptions, Topic};
use whatif_tests::TestServer;
use whatif_tests::api::{self, PASSWORD, finished, get, patch, post, sign_up};

use crate::accounts::wait_for_deletion;

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse("auth=1000/15m,general=100000/15m,generate=100000/1h").unwrap();
    let server = TestServer::start_in(dir.path(), |config| {
        config.rate_limits = limits;
        // Every scenario export becomes a file in the blob store.
        config.export_inline_max_bytes = 0;
    })
    .await;
    (server, dir)
}

/// A scenario for the caller (offline provider): its id.
async fn create(server: &TestServer, token: &str, topic: &str) -> String {
    let answer = post(server, "/api/generate", Some(token), json!({"topic": topic})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["scenario"]["id"].as_str().unwrap().to_string()
}

/// How many items the table holds in `partition`.
async fn items_in(ctx: &AppContext, partition: String) -> usize {
    ctx.table.query(&Query::partition(Index::Primary, partition)).await.unwrap().items.len()
}

/// Purge markers in the table that name `user_id`.
async fn purge_markers_of(ctx: &AppContext, user_id: &str) -> usize {
    let markers = ctx.table.query(&Query::partition(Index::Primary, keys::PURGE_PARTITION)).await.unwrap().items;
    markers.iter().filter(|m| m["sk"].as_str().unwrap_or_default().contains(user_id)).count()
}

async fn scenarios_of(ctx: &AppContext, user_id: &str) -> usize {
    let query = Query::partition(Index::Primary, keys::user_partition(&UserId::from_trusted(user_id)))
        .sk(SortKey::BeginsWith(keys::SCENARIO_PREFIX.into()));
    ctx.table.query(&query).await.unwrap().items.len()
}

#[tokio::test]
async fn the_data_export_carries_every_scenario_of_the_account() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "exporter").await;
    let (other, _) = sign_up(&server, "bystander").await;
    let kept = create(&server, &token, "What if trains ran on time?").await;
    let binned = create(&server, &token, "What if the moon were closer?").await;
    create(&server, &other, "What if someone else asked?").await;
    let deleted =
        api::send(&server, Method::DELETE, &format!("/api/scenarios/{binned}"), Some(&token), None, &[]).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");

    let started = get(&server, "/api/users/export", Some(&token)).await;
    assert_eq!(started.status, 202, "{started:?}");
    let job = finished(&server, &token, started.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let url = job["result"]["file"]["downloadUrl"].as_str().expect("a download link");
    let zip = server.http.get(url).send().await.unwrap().bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("the export is a zip");
    let mut text = String::new();
    archive.by_name("scenarios/scenarios.json").expect("the scenarios are in it").read_to_string(&mut text).unwrap();
    let scenarios: Vec<Value> = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = scenarios.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [kept.as_str(), binned.as_str()], "both of the account's scenarios, and no one else's");
    assert!(scenarios[0]["content"].as_str().is_some_and(|c| !c.is_empty()), "with their text");
    assert!(scenarios[1]["deletedAt"].is_string(), "a deleted one says so");
    assert!(scenarios.iter().all(|s| s.get("userId").is_none() && s.get("pk").is_none()), "no table internals");
    assert!(archive.by_name("account/account.json").is_ok());
}

#[tokio::test]
async fn deleting_the_account_removes_its_scenarios_and_everything_that_came_with_them() {
    let (server, _dir) = server().await;
    let (token, user_id) = sign_up(&server, "leaver").await;
    let (other, other_id) = sign_up(&server, "stayer").await;
    let public = create(&server, &token, "What if libraries never closed?").await;
    let binned = create(&server, &token, "What if rain were warm?").await;
    let theirs = create(&server, &other, "What if I stay?").await;
    assert_eq!(
        patch(&server, &format!("/api/scenarios/{public}"), Some(&token), json!({"isPublic": true})).await.status,
        200
    );
    let deleted =
        api::send(&server, Method::DELETE, &format!("/api/scenarios/{binned}"), Some(&token), None, &[]).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    // An exported file of the public scenario, read by someone else.
    let export = get(&server, &format!("/api/scenarios/{public}/export?format=md"), Some(&other)).await;
    assert_eq!(export.status, 200, "{export:?}");
    let file_url = export.data()["url"].as_str().expect("a link to the file").to_string();
    assert_eq!(server.http.get(&file_url).send().await.unwrap().status(), 200);
    assert_eq!(get(&server, &format!("/api/scenarios/{public}"), Some(&other)).await.status, 200);
    // An avatar, and an upload the profile has not accepted (yet).
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut uploads = Vec::new();
    for _ in 0..2 {
        let upload =
            post(&server, "/api/users/avatar-upload-url", Some(&token), json!({"contentType": "image/png"})).await;
        assert_eq!(upload.status, 200, "{upload:?}");
        let url = upload.data()["uploadUrl"].as_str().unwrap();
        let put = server.http.put(url).header("content-type", "image/png").body(png.clone()).send().await.unwrap();
        assert_eq!(put.status(), 200);
        uploads.push(upload.data()["key"].as_str().unwrap().to_string());
    }
    let profile = api::send(
        &server,
        Method::PUT,
        "/api/users/profile",
        Some(&token),
        Some(json!({"avatarKey": uploads[0]})),
        &[],
    )
    .await;
    assert_eq!(profile.status, 200, "{profile:?}");
    let owner = UserId::from_trusted(&user_id);
    assert_eq!(server.ctx.blobs.list(&keys::avatars_of(&owner)).await.unwrap().len(), 1, "the avatar");
    assert_eq!(server.ctx.blobs.list(&keys::avatar_uploads_of(&owner)).await.unwrap(), [uploads[1].as_str()]);

    let closing = api::send(
        &server,
        Method::DELETE,
        "/api/users/delete-account",
        Some(&token),
        Some(json!({"password": PASSWORD})),
        &[],
    )
    .await;
    assert_eq!(closing.status, 202, "{closing:?}");
    wait_for_deletion(&server, closing.data()["jobId"].as_str().unwrap()).await;

    let ctx = &server.ctx;
    assert_eq!(get(&server, &format!("/api/scenarios/{public}"), Some(&other)).await.status, 404, "public no more");
    assert_eq!(get(&server, &format!("/api/scenarios/{public}"), None).await.status, 404);
    assert_eq!(scenarios_of(ctx, &user_id).await, 0, "no scenario of the account is left");
    assert_eq!(
        items_in(ctx, keys::scenario_summaries(&UserId::from_trusted(&user_id))).await,
        0,
        "no history entry is left"
    );
    for partition in keys::scenario_terms_partitions(&UserId::from_trusted(&user_id)) {
        assert_eq!(items_in(ctx, partition).await, 0, "no search item is left");
    }
    assert_eq!(purge_markers_of(ctx, &user_id).await, 0, "no purge marker is left");
    assert!(ctx.blobs.list(&format!("exports/{user_id}/")).await.unwrap().is_empty(), "no exported file is left");
    assert!(ctx.blobs.list(&keys::avatars_of(&owner)).await.unwrap().is_empty(), "no avatar is left");
    assert!(ctx.blobs.list(&keys::avatar_uploads_of(&owner)).await.unwrap().is_empty(), "no avatar upload is left");
    assert_ne!(server.http.get(&file_url).send().await.unwrap().status(), 200, "the old link gives nothing");

    // The other account has all it had.
    assert_eq!(scenarios_of(ctx, &other_id).await, 1);
    assert_eq!(items_in(ctx, keys::scenario_summaries(&UserId::from_trusted(&other_id))).await, 1);
    let mine = get(&server, "/api/scenarios/my", Some(&other)).await;
    assert_eq!(mine.data()["scenarios"][0]["id"], theirs.as_str(), "{mine:?}");
    let found = get(&server, "/api/scenarios/search?q=stay", Some(&other)).await;
    assert_eq!(found.data()["scenarios"][0]["id"], theirs.as_str(), "{found:?}");
}

#[tokio::test]
async fn a_generation_queued_before_the_account_was_banned_writes_nothing() {
    let (server, _dir) = server().await;
    let (_, user_id) = sign_up(&server, "banned-later").await;
    // What a moderator's ban writes: the account and its status item, together.
    let ban = |key| TxOp::Update { key, update: Update::new().set("status", "banned"), cond: Some(Cond::Exists) };
    server
        .ctx
        .table
        .transact(vec![
            ban(keys::user_profile(&UserId::from_trusted(&user_id))),
            ban(keys::account_status(&UserId::from_trusted(&user_id))),
        ])
        .await
        .unwrap();
    // A generation the account queued just before (its request was already
    // past the token check): the worker picks it up after the ban.
    let topic = Topic::parse("What if I had behaved?").unwrap();
    let late = job::start(&server.ctx, &user_id, &topic, &GenerationOptions::default()).await.unwrap();
    let started = Instant::now();
    let job = loop {
        let job = records::get(&server.ctx, &late.job_id).await.unwrap().expect("the job record");
        if job.status.is_final() {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the job never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert_eq!(scenarios_of(&server.ctx, &user_id).await, 0, "nothing was written for a banned account");
}
