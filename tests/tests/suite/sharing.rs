//! Sharing over HTTP, on the embedded backend and on the AWS adapters
//! (DynamoDB Local and moto): share links and their reuse, what a viewer and a
//! crawler see, passwords and their guess limit, expiry, pausing and
//! revocation, deleted and moderated scenarios, QR codes read back by a real
//! decoder, the preview card, analytics, reports and their queue item, and
//! what the account's deletion and export do with shares and reports.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::ScenarioId;
use whatif_shared::keys;
use whatif_shared::ports::table::Update;
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::api::{self, Answer, get, patch, post, sign_up};
use whatif_tests::{TestServer, emulator_endpoint};

const LIMITS: &str = "auth=5/15m,general=100000/15m,generate=100000/1h,write-social=1000/15m";

async fn embedded(limits: &str) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse(limits).unwrap();
    let server = TestServer::start_in(dir.path(), |config| config.rate_limits = limits).await;
    (server, dir)
}

async fn create_scenario(server: &TestServer, token: &str, topic: &str) -> String {
    let body = json!({"topic": topic, "options": {"length": "short"}});
    let answer = post(server, "/api/generate", Some(token), body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["scenario"]["id"].as_str().unwrap().to_string()
}

async fn share(server: &TestServer, token: &str, scenario: &str, body: Value) -> Answer {
    post(server, &format!("/api/share/{scenario}"), Some(token), body).await
}

fn share_id(answer: &Answer) -> String {
    answer.data()["shareUrl"].as_str().unwrap_or_else(|| panic!("no shareUrl: {answer:?}")).to_string()
}

async fn view(server: &TestServer, id: &str, token: Option<&str>, password: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = password.map(|p| vec![("x-share-password", p)]).unwrap_or_default();
    api::send(server, Method::GET, &format!("/shared/{id}"), token, None, &headers).await
}

async fn my_share(server: &TestServer, token: &str, id: &str) -> Value {
    let mine = get(server, "/api/sharing/my?limit=100", Some(token)).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    mine.data()["shares"].as_array().unwrap().iter().find(|s| s["shareUrl"] == id).cloned().unwrap_or(Value::Null)
}

/// The width and height a PNG's header says.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The text of the QR code in a PNG, read by a real decoder.
fn decode_qr(png: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let grey: Vec<u8> = pixels[..info.buffer_size()].chunks(channels).map(|p| p[0]).collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("the code decodes").1
}

/// Everything a share does, the same on every backend.
async fn sharing_life(server: &TestServer) {
    let (owner, _) = sign_up(server, &format!("sharer-{}", whatif_tests::unique_suffix())).await;
    let (other, _) = sign_up(server, &format!("viewer-{}", whatif_tests::unique_suffix())).await;
    let profile = json!({"displayName": "Lan Nguyễn"});
    assert_eq!(
        api::send(server, Method::PUT, "/api/users/profile", Some(&owner), Some(profile), &[]).await.status,
        200
    );
    let scenario = create_scenario(server, &owner, "What if the Moon had rings?").await;

    // Only the owner shares, and only what exists.
    assert_eq!(share(server, &other, &scenario, json!({})).await.status, 404, "someone else's scenario");
    assert_eq!(post(server, &format!("/api/share/{scenario}"), None, json!({})).await.status, 401);
    assert_eq!(share(server, &owner, "not-an-id", json!({})).await.status, 400);
    let missing = ulid_like();
    assert_eq!(share(server, &owner, &missing, json!({})).await.status, 404);
    for (body, field) in [
        (json!({"expiresAt": "2020-01-01T00:00:00Z"}), "expiresAt"),
        (json!({"expiresAt": "tomorrow"}), "expiresAt"),
        (json!({"password": "abc"}), "password"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"shareCount": 5}), "shareCount"),
    ] {
        let answer = share(server, &owner, &scenario, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert!(answer.body.to_string().contains(field), "{body} names {field}: {answer:?}");
    }

    // A share of a private scenario: unguessable id, reused unless forceNew.
    let first = share(server, &owner, &scenario, json!({})).await;
    assert_eq!(first.status, 201, "{first:?}");
    let id = share_id(&first);
    assert_eq!(id.len(), 22 + 26, "128 random bits, then the scenario's id");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
    assert!(id.ends_with(&scenario), "{id}");
    let full_url = first.data()["fullUrl"].as_str().unwrap().to_string();
    assert!(full_url.ends_with(&format!("/s/{id}")), "{full_url}");
    assert!(first.data()["qrCodeUrl"].as_str().unwrap().ends_with(&format!("/qr/{id}")));
    assert_eq!(first.data()["isPasswordProtected"], false);
    let again = share(server, &owner, &scenario, json!({})).await;
    assert_eq!((again.status, share_id(&again)), (200, id.clone()), "the live share is reused");
    let forced = share(server, &owner, &scenario, json!({"forceNew": true})).await;
    assert_eq!(forced.status, 201);
    let newer = share_id(&forced);
    assert_ne!(newer, id);
    assert_eq!(share_id(&share(server, &owner, &scenario, json!({})).await), newer, "the newest is reused next");
    assert_eq!(share(server, &owner, &scenario, json!({"title": "Rings!"})).await.status, 201, "other settings");
    let stats = get(server, "/api/scenarios/stats", Some(&owner)).await;
    assert_eq!(stats.data()["stats"]["totalShares"], 3, "each new link counts: {stats:?}");

    // What a viewer sees: the story, the share, the author's public name; no owner id or notes.
    let seen = view(server, &id, None, None).await;
    assert_eq!(seen.status, 200, "a private scenario's share works: {seen:?}");
    let shown = &seen.data()["scenario"];
    assert_eq!(shown["id"], json!(scenario));
    assert!(shown["content"].is_string());
    for hidden in ["userId", "ownerId", "rating", "isFavorite", "tags", "version", "tokens", "costUsd", "promptVersion"]
    {
        assert!(shown.get(hidden).is_none(), "{hidden} shown to a viewer: {seen:?}");
    }
    assert_eq!(seen.data()["share"]["author"]["displayName"], "Lan Nguyễn");
    assert_eq!(seen.data()["share"]["title"], shown["title"], "the scenario's title unless overridden");
    assert!(!seen.body.to_string().contains("passwordHash"));

    // Views: once per viewer and day; the owner's do not count.
    view(server, &id, None, None).await;
    view(server, &id, Some(&other), None).await;
    view(server, &id, Some(&other), None).await;
    let by_owner = view(server, &id, Some(&owner), None).await;
    assert_eq!(by_owner.data()["share"]["viewCount"], 2, "{by_owner:?}");
    assert_eq!(my_share(server, &owner, &id).await["viewCount"], 2);

    // A private profile hides the author's name.
    let private = json!({"preferences": {"publicProfile": false}});
    assert_eq!(
        api::send(server, Method::PUT, "/api/users/profile", Some(&owner), Some(private), &[]).await.status,
        200
    );
    assert!(view(server, &id, None, None).await.data()["share"].get("author").is_none());

    // The owner changes the share; nobody else can.
    let path = format!("/api/sharing/share/{id}");
    assert_eq!(patch(server, &path, Some(&other), json!({"title": "Mine"})).await.status, 404);
    assert_eq!(patch(server, &path, None, json!({"title": "Mine"})).await.status, 401);
    assert_eq!(patch(server, &path, Some(&owner), json!({"viewCount": 0})).await.status, 400, "only its own fields");
    let titled = patch(server, &path, Some(&owner), json!({"title": "Rings <b>of</b> ice"})).await;
    assert_eq!((titled.status, titled.data()["title"].clone()), (200, json!("Rings <b>of</b> ice")), "{titled:?}");
    let meta = get(server, &format!("/api/sharing/metadata/{id}"), None).await;
    assert_eq!(meta.data()["title"], "Rings <b>of</b> ice");
    assert_eq!(meta.data()["image"].as_str().unwrap(), format!("{full_url}/card.png"));

    // The public page: tags crawlers read, escaped, sending people to the web client.
    let page = get(server, &format!("/s/{id}"), None).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = String::from_utf8(page.bytes.clone()).unwrap();
    for tag in [
        r#"<meta property="og:title" content="Rings &lt;b&gt;of&lt;/b&gt; ice">"#.to_string(),
        format!(r#"<meta property="og:url" content="{full_url}">"#),
        format!(r#"<meta property="og:image" content="{full_url}/card.png">"#),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_string(),
        format!(r#"<meta http-equiv="refresh" content="0; url=http://localhost:3001/shared?shareUrl={id}">"#),
    ] {
        assert!(html.contains(&tag), "{tag} in {html}");
    }
    assert!(!html.contains("<b>of"), "escaped");
    let cache = page.header("cache-control").unwrap();
    assert!(cache.contains("s-maxage=60"), "{cache}");
    let etag = page.header("etag").unwrap().to_string();
    let revalidated =
        api::send(server, Method::GET, &format!("/s/{id}"), None, None, &[("if-none-match", &etag)]).await;
    assert_eq!((revalidated.status, revalidated.bytes.len()), (304, 0));

    // The preview card and the QR code.
    let card = get(server, &format!("/s/{id}/card.png"), None).await;
    assert_eq!((card.status, card.header("content-type")), (200, Some("image/png")), "{card:?}");
    assert_eq!(png_size(&card.bytes), (1200, 630));
    let qr = get(server, &format!("/qr/{id}"), None).await;
    assert_eq!((qr.status, qr.header("content-type")), (200, Some("image/png")));
    assert_eq!(png_size(&qr.bytes), (512, 512));
    assert_eq!(decode_qr(&qr.bytes), full_url, "the code reads back as the share's link");
    let small = get(server, &format!("/qr/{id}?size=128"), None).await;
    assert_eq!(png_size(&small.bytes), (128, 128));
    assert_eq!(decode_qr(&small.bytes), full_url);
    let svg = get(server, &format!("/qr/{id}?format=svg&size=256"), None).await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg.bytes).contains("<svg"));
    assert!(qr.header("cache-control").unwrap().contains("max-age=86400"));
    for bad in ["size=127", "size=1025", "size=big", "format=gif"] {
        assert_eq!(get(server, &format!("/qr/{id}?{bad}"), None).await.status, 400, "{bad}");
    }

    // Sends by platform, and the owner's analytics.
    let record = format!("/api/sharing/share/{id}/record");
    assert_eq!(post(server, &record, None, json!({"platform": "facebook"})).await.status, 200);
    assert_eq!(post(server, &record, Some(&other), json!({"platform": "qr"})).await.status, 200);
    assert_eq!(post(server, &record, None, json!({"platform": "myspace"})).await.status, 400);
    let analytics = get(server, "/api/sharing/analytics", Some(&owner)).await;
    assert_eq!(analytics.status, 200, "{analytics:?}");
    let a = &analytics.data()["analytics"];
    assert_eq!((a["totalShares"].clone(), a["totalViews"].clone()), (json!(3), json!(2)), "{a}");
    assert_eq!(a["activeShares"], 3);
    assert_eq!((a["platformStats"]["facebook"].clone(), a["platformStats"]["qr"].clone()), (json!(1), json!(1)));
    assert_eq!(a["daily"].as_array().unwrap().len(), 30);
    assert_eq!(a["daily"][29]["views"], 2);
    let theirs = get(server, "/api/sharing/analytics", Some(&other)).await;
    assert_eq!(theirs.data()["analytics"]["totalViews"], 0, "only the caller's own shares");
    for bad in ["dateFrom=2026-02-01&dateTo=2026-01-01", "dateFrom=2024-01-01&dateTo=2026-01-01", "dateTo=soon"] {
        assert_eq!(get(server, &format!("/api/sharing/analytics?{bad}"), Some(&owner)).await.status, 400, "{bad}");
    }

    // Paused, then resumed; a guessed id is like a missing one.
    assert_eq!(patch(server, &path, Some(&owner), json!({"isActive": false})).await.data()["status"], "paused");
    for public in [format!("/shared/{id}"), format!("/s/{id}"), format!("/qr/{id}"), format!("/s/{id}/card.png")] {
        assert_eq!(get(server, &public, None).await.status, 404, "{public} while paused");
    }
    assert_eq!(patch(server, &path, Some(&owner), json!({"isActive": true})).await.data()["status"], "active");
    assert_eq!(view(server, &id, None, None).await.status, 200);
    for guess in ["AAAAAAAAAAAAAAAAAAAAAA", "short", "..%2F..%2Fetc"] {
        assert_eq!(view(server, guess, None, None).await.status, 404, "{guess}");
    }

    // A deleted scenario takes its shares down until it is restored; a hidden one too.
    let scenario_path = format!("/api/scenarios/{scenario}");
    assert_eq!(api::send(server, Method::DELETE, &scenario_path, Some(&owner), None, &[]).await.status, 200);
    assert_eq!(view(server, &id, None, None).await.status, 404, "deleted");
    assert_eq!(post(server, &format!("{scenario_path}/restore"), Some(&owner), json!({})).await.status, 200);
    assert_eq!(view(server, &id, None, None).await.status, 200, "restored: the owner's consent stands");
    hide(server, &owner_of(server, &scenario).await, &scenario, true).await;
    assert_eq!(view(server, &id, None, None).await.status, 404, "hidden by a moderator");
    assert_eq!(share(server, &owner, &scenario, json!({"forceNew": true})).await.status, 403);
    hide(server, &owner_of(server, &scenario).await, &scenario, false).await;

    // A password: only in the header; wrong guesses are limited per share and client.
    let locked = share(server, &owner, &scenario, json!({"password": "open sesame"})).await;
    assert_eq!((locked.status, locked.data()["isPasswordProtected"].clone()), (201, json!(true)));
    let locked = share_id(&locked);
    assert_eq!(view(server, &locked, None, None).await.code(), "SHARE_PASSWORD_REQUIRED");
    let in_url = get(server, &format!("/shared/{locked}?password=open%20sesame"), None).await;
    assert_eq!(in_url.status, 403, "never from the URL");
    assert_eq!(view(server, &locked, None, Some("open sesame")).await.status, 200);
    assert_eq!(view(server, &locked, Some(&owner), None).await.status, 200, "the owner needs none");
    let locked_meta = get(server, &format!("/api/sharing/metadata/{locked}"), None).await;
    assert_eq!(locked_meta.data()["isPasswordProtected"], true);
    let locked_page = String::from_utf8(get(server, &format!("/s/{locked}"), None).await.bytes).unwrap();
    assert!(locked_page.contains("password-protected") && !locked_page.contains("Rings"), "no content: {locked_page}");
    for _ in 0..5 {
        assert_eq!(view(server, &locked, None, Some("sesame open")).await.code(), "SHARE_PASSWORD_WRONG");
    }
    let limited = view(server, &locked, None, Some("open sesame")).await;
    assert_eq!(limited.status, 429, "even the right password waits: {limited:?}");
    assert!(limited.header("retry-after").is_some());
    let other_locked = share_id(&share(server, &owner, &scenario, json!({"password": "second door"})).await);
    assert_eq!(view(server, &other_locked, None, Some("second door")).await.status, 200, "per share");

    // Expiry.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    let expiring = share_id(&share(server, &owner, &scenario, json!({"expiresAt": soon})).await);
    assert_eq!(view(server, &expiring, None, None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(view(server, &expiring, None, None).await.status, 404, "expired");
    assert_eq!(my_share(server, &owner, &expiring).await["status"], "expired");

    // Revoked for good.
    assert_eq!(api::send(server, Method::DELETE, &path, Some(&other), None, &[]).await.status, 404);
    let revoked = api::send(server, Method::DELETE, &path, Some(&owner), None, &[]).await;
    assert_eq!((revoked.status, revoked.data()["status"].clone()), (200, json!("revoked")), "{revoked:?}");
    for public in
        [format!("/shared/{id}"), format!("/s/{id}"), format!("/qr/{id}"), format!("/api/sharing/metadata/{id}")]
    {
        assert_eq!(get(server, &public, None).await.status, 404, "{public} once revoked");
    }
    assert_eq!(post(server, &record, None, json!({"platform": "email"})).await.status, 404);
    assert_eq!(patch(server, &path, Some(&owner), json!({"isActive": true})).await.status, 404, "stays revoked");
    assert_eq!(api::send(server, Method::DELETE, &path, Some(&owner), None, &[]).await.status, 404);
    assert_eq!(my_share(server, &owner, &id).await["status"], "revoked");

    // My shares: newest first, by page or cursor, one scenario's when asked.
    let all = get(server, "/api/sharing/my?limit=2", Some(&owner)).await;
    assert_eq!(all.data()["pagination"]["total"], 6, "{all:?}");
    let cursor = all.data()["nextCursor"].as_str().unwrap().to_string();
    let next = get(server, &format!("/api/sharing/my?limit=2&cursor={cursor}"), Some(&owner)).await;
    let page_ids = |a: &Answer| -> Vec<String> {
        a.data()["shares"].as_array().unwrap().iter().map(|s| s["shareUrl"].as_str().unwrap().to_string()).collect()
    };
    let (one, two) = (page_ids(&all), page_ids(&next));
    assert_eq!(one[0], expiring, "newest first");
    assert!(one.iter().all(|s| !two.contains(s)), "no repeats");
    assert_eq!(get(server, "/api/sharing/my", Some(&other)).await.data()["pagination"]["total"], 0);
}

/// A ULID no scenario has.
fn ulid_like() -> String {
    "01JDGZ9K2M4N6P8Q0R2S4T6V8W".to_string()
}

async fn owner_of(server: &TestServer, scenario: &str) -> String {
    let id = ScenarioId::from_trusted(scenario);
    whatif_shared::scenarios::store::get_by_id(&server.ctx, &id).await.unwrap().expect("the scenario").owner_id
}

/// Hides or shows a scenario as a moderator's action will (the admin routes
/// come later): the flag on the scenario item.
async fn hide(server: &TestServer, owner: &str, scenario: &str, hidden: bool) {
    let key = keys::scenario(&whatif_shared::UserId::from_trusted(owner), &ScenarioId::from_trusted(scenario));
    server.ctx.table.update(&key, Update::new().set("isHidden", hidden), None).await.expect("hide");
}

#[tokio::test]
async fn sharing_works_end_to_end_on_the_embedded_backend() {
    let (server, _dir) = embedded(LIMITS).await;
    sharing_life(&server).await;
}

#[tokio::test]
async fn sharing_works_end_to_end_on_dynamodb_local_and_moto() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let limits = RateLimits::parse(LIMITS).unwrap();
    let (server, _data) = whatif_tests::start_on_emulators(&dynamodb, &moto, |c| c.rate_limits = limits).await;
    sharing_life(&server).await;
    server.stop().await;
}

/// Reports: only of what the reporter can see, never of one's own, one open
/// report per reporter and target, a priority computed by the server, and a
/// flood from one address stopped by the rate limit.
#[tokio::test]
async fn a_share_id_names_its_scenario_opens_nothing_else_and_older_ids_still_open() {
    let (server, _dir) = embedded(LIMITS).await;
    let (owner, _) = sign_up(&server, "namer").await;
    let first = create_scenario(&server, &owner, "What if bees built cities?").await;
    let second = create_scenario(&server, &owner, "What if ants held elections?").await;
    let id = share_id(&share(&server, &owner, &first, json!({})).await);
    assert_eq!(view(&server, &id, None, None).await.status, 200);
    let random = &id[..22];

    // The link's random part with another scenario of the same owner is no share.
    let crafted = format!("{random}{second}");
    for path in [
        format!("/shared/{crafted}"),
        format!("/s/{crafted}"),
        format!("/s/{crafted}/card.png"),
        format!("/qr/{crafted}"),
        format!("/api/sharing/metadata/{crafted}"),
    ] {
        assert_eq!(get(&server, &path, None).await.status, 404, "{path}");
    }

    // A share made before ids named their scenario: the 22 characters alone.
    let mut item = server.ctx.table.get(&keys::share(&id)).await.unwrap().expect("the share");
    let older = keys::share(random);
    item.insert("pk".into(), json!(older.pk));
    item.insert("sk".into(), json!(older.sk));
    item.insert("shareUrl".into(), json!(random));
    server.ctx.table.put(item, None).await.unwrap();
    let seen = view(&server, random, None, None).await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.data()["scenario"]["id"], json!(first));
    assert_eq!(seen.data()["share"]["shareUrl"], json!(random));
    for path in [format!("/s/{random}"), format!("/qr/{random}"), format!("/api/sharing/metadata/{random}")] {
        assert_eq!(get(&server, &path, None).await.status, 200, "{path}");
    }
}

#[tokio::test]
async fn reports_are_one_per_reporter_and_target_and_a_flood_is_limited() {
    let (server, _dir) = embedded("general=100000/15m,generate=100000/1h,write-social=12/15m").await;
    let (owner, _) = sign_up(&server, "author").await;
    let (reader, _) = sign_up(&server, "reader").await;
    let private = create_scenario(&server, &owner, "What if cats ran the post office?").await;
    let public = create_scenario(&server, &owner, "What if dogs ran the bank?").await;
    patch(&server, &format!("/api/scenarios/{public}"), Some(&owner), json!({"isPublic": true})).await;
    let report = |target_type: &str, target: &str, reason: &str| json!({"targetType": target_type, "targetId": target, "reason": reason, "severity": "critical", "category": "content"});

    let options = get(&server, "/api/reporting/options", None).await;
    assert_eq!(options.data()["reasons"].as_array().unwrap().len(), 9);
    assert_eq!(options.data()["reasons"][4]["labels"]["vi"], "Ngôn từ thù địch");
    assert_eq!(options.data()["severities"].as_array().unwrap().len(), 4);

    let hidden = post(&server, "/api/report", Some(&reader), report("scenario", &private, "spam")).await;
    assert_eq!(hidden.status, 404, "what the reporter cannot see: {hidden:?}");
    let own = post(&server, "/api/report", Some(&owner), report("scenario", &public, "spam")).await;
    assert_eq!((own.status, own.code()), (422, "OWN_CONTENT"));
    let filed = post(&server, "/api/report", Some(&reader), report("scenario", &public, "hate_speech")).await;
    assert_eq!((filed.status, filed.data()["status"].clone()), (201, json!("pending")), "{filed:?}");
    assert_eq!(filed.data()["reportId"].as_str().unwrap().len(), 26);
    let twice = post(&server, "/api/report", Some(&reader), report("scenario", &public, "spam")).await;
    assert_eq!((twice.status, twice.code()), (409, "DUPLICATE_REPORT"));
    let anonymous = post(&server, "/api/report", None, report("scenario", &public, "violence")).await;
    assert_eq!(anonymous.status, 201, "{anonymous:?}");
    assert_eq!(
        post(&server, "/api/report", None, report("scenario", &public, "spam")).await.status,
        409,
        "per address"
    );
    // Through a share it is the same scenario, so the same reporter is a duplicate.
    let link = share_id(&share(&server, &owner, &public, json!({})).await);
    let through = json!({"targetType": "shared_scenario", "targetId": public, "shareUrl": link, "reason": "spam"});
    assert_eq!(post(&server, "/api/report", Some(&reader), through).await.status, 409);
    for (body, status) in [
        (report("post", "01JDGZ9K2M4N6P8Q0R2S4T6V8W", "spam"), 404),
        (report("scenario", &public, "boring"), 400),
        (json!({"targetType": "scenario", "targetId": public, "reason": "spam", "description": "x".repeat(501)}), 400),
        (json!({"targetType": "scenario", "targetId": public, "reason": "spam", "status": "resolved"}), 400),
    ] {
        assert_eq!(post(&server, "/api/report", Some(&reader), body.clone()).await.status, status, "{body}");
    }

    // The queue item: two distinct reporters, one of them anonymous; nothing is hidden.
    let item = server.ctx.table.get(&keys::report_target("scenario", &public)).await.unwrap().expect("queued");
    assert_eq!((item["reporters"].clone(), item["status"].clone()), (json!(2), json!("open")), "{item:?}");
    assert_eq!(item["verifiedReporters"], 0, "neither reporter verified an email");
    assert_eq!(item["priority"], "high", "violence (40) + 2 reporters (10) + the hint (10): {item:?}");
    assert!(item["gsi1pk"] == "REPORTQ#open", "{item:?}");
    assert_eq!(get(&server, &format!("/api/scenarios/{public}"), None).await.status, 200, "reports hide nothing");

    // A flood from one address: the write-social limit (12 here) stops it.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let target = create_scenario(&server, &owner, "What if the flood came?").await;
        patch(&server, &format!("/api/scenarios/{target}"), Some(&owner), json!({"isPublic": true})).await;
        statuses.push(post(&server, "/api/report", None, report("scenario", &target, "spam")).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // The limit counts per address for anonymous callers: 2 of its 12 went to the reports above.
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 12 - 2, "{statuses:?}");
}

/// Deleting an account removes its shares and reports; its data export
/// carries them first.
#[tokio::test]
async fn the_account_export_carries_shares_and_reports_and_deletion_removes_them() {
    let (server, _dir) = embedded(LIMITS).await;
    let (owner, owner_id) = sign_up(&server, "leaver").await;
    let (other, _) = sign_up(&server, "stayer").await;
    let mine = create_scenario(&server, &owner, "What if I left?").await;
    let theirs = create_scenario(&server, &other, "What if they stayed?").await;
    patch(&server, &format!("/api/scenarios/{theirs}"), Some(&other), json!({"isPublic": true})).await;
    let link = share_id(&share(&server, &owner, &mine, json!({"password": "secret door"})).await);
    let filed = post(
        &server,
        "/api/report",
        Some(&owner),
        json!({"targetType": "scenario", "targetId": theirs, "reason": "spam"}),
    )
    .await;
    assert_eq!(filed.status, 201);

    let started = get(&server, "/api/users/export", Some(&owner)).await;
    assert_eq!(started.status, 202, "{started:?}");
    let job = api::finished(&server, &owner, started.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let url = job["result"]["file"]["downloadUrl"].as_str().expect("a download link").to_string();
    let zip = server.http.get(&url).send().await.unwrap().bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    let mut read = |name: &str| std::io::read_to_string(archive.by_name(name).expect(name)).unwrap();
    let shares = read("shares/shares.json");
    assert!(shares.contains(&link) && !shares.contains("passwordHash"), "{shares}");
    let reports = read("reports/reports.json");
    assert!(reports.contains(&theirs) && reports.contains("spam"), "{reports}");

    let body = json!({"password": api::PASSWORD});
    let closing = api::send(&server, Method::DELETE, "/api/users/delete-account", Some(&owner), Some(body), &[]).await;
    assert_eq!(closing.status, 202, "{closing:?}");
    wait_gone(&server, &keys::share(&link)).await;
    let left = whatif_shared::ports::table::query_all(
        server.ctx.table.as_ref(),
        whatif_shared::ports::table::Query::partition(
            whatif_shared::ports::table::Index::Gsi2,
            keys::reports_of_reporter(&whatif_shared::UserId::from_trusted(&owner_id)),
        ),
        100,
    )
    .await
    .unwrap();
    assert!(left.is_empty(), "the account's reports are gone: {left:?}");
    assert_eq!(view(&server, &link, None, Some("secret door")).await.status, 404);
}

/// Waits (up to 30 s) until the item at `key` is gone.
async fn wait_gone(server: &TestServer, key: &whatif_shared::ports::table::Key) {
    for _ in 0..300 {
        if server.ctx.table.get(key).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{key:?} is still there after 30 s");
}
