//! The history over HTTP through the local server: listing with every filter
//! and sort, cursor paging while scenarios arrive, search with and without
//! diacritics, stats, bulk edits, visibility, concurrent edits, delete and
//! restore, versions, and every export format.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::TestServer;
use whatif_tests::api::{self, Answer, get, patch, post, sign_up};

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse("auth=1000/15m,general=100000/15m,generate=100000/1h").unwrap();
    let server = TestServer::start_in(dir.path(), |config| config.rate_limits = limits).await;
    (server, dir)
}

/// Generates a scenario for the caller (offline provider); its JSON.
async fn create(server: &TestServer, token: &str, topic: &str, prompt_type: &str) -> Value {
    let body = json!({"topic": topic, "options": {"promptType": prompt_type, "length": "short"}});
    let answer = post(server, "/api/generate", Some(token), body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["scenario"].clone()
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.data()["scenarios"]
        .as_array()
        .unwrap_or_else(|| panic!("no scenarios: {answer:?}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn id_of(s: &Value) -> String {
    s["id"].as_str().unwrap().to_string()
}

async fn edit(server: &TestServer, token: &str, id: &str, body: Value) -> Answer {
    let answer = patch(server, &format!("/api/scenarios/{id}"), Some(token), body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer
}

#[tokio::test]
async fn listing_applies_every_filter_and_sort_with_a_consistent_total() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "lister").await;
    let (other, _) = sign_up(&server, "neighbour").await;
    let mut made = Vec::new();
    for (i, prompt_type) in
        ["historical", "scientific", "humor", "scientific", "fantasy", "scientific"].iter().enumerate()
    {
        made.push(create(&server, &token, &format!("What if experiment number {i} worked?"), prompt_type).await);
    }
    create(&server, &other, "What if the neighbour's scenario leaked?", "scientific").await;
    let id = |i: usize| id_of(&made[i]);
    edit(&server, &token, &id(0), json!({"isFavorite": true, "rating": 2, "tags": ["space", "Old"]})).await;
    edit(&server, &token, &id(1), json!({"isFavorite": true, "rating": 5, "tags": ["space"], "isPublic": true})).await;
    edit(&server, &token, &id(2), json!({"rating": 4, "tags": ["old"]})).await;
    // Views by another user count on public scenarios.
    for _ in 0..2 {
        assert_eq!(get(&server, &format!("/api/scenarios/{}", id(1)), Some(&other)).await.status, 200);
    }
    assert_eq!(get(&server, &format!("/api/scenarios/{}", id(1)), None).await.status, 200);

    let list = |query: &'static str| {
        let (server, token) = (&server, token.clone());
        async move {
            let answer = get(server, &format!("/api/scenarios/my?{query}"), Some(&token)).await;
            assert_eq!(answer.status, 200, "{query}: {answer:?}");
            answer
        }
    };
    let all = list("").await;
    assert_eq!(all.data()["pagination"]["total"], 6, "only mine");
    let newest_first: Vec<String> = (0..6).rev().map(id).collect();
    assert_eq!(ids(&all), newest_first, "newest first by default");
    assert!(all.data()["scenarios"][0].get("content").is_none(), "listed without the text");
    let oldest_first: Vec<String> = (0..6).map(id).collect();
    assert_eq!(ids(&list("sort=createdAt&order=asc").await), oldest_first);

    let scientific = list("promptType=scientific").await;
    assert_eq!(ids(&scientific), [id(5), id(3), id(1)]);
    assert_eq!(scientific.data()["pagination"]["total"], 3);
    assert_eq!(ids(&list("isFavorite=true").await), [id(1), id(0)]);
    assert_eq!(ids(&list("isFavorite=false").await).len(), 4);
    assert_eq!(ids(&list("tags=space").await), [id(1), id(0)]);
    assert_eq!(ids(&list("tags=OLD,space").await), [id(0)], "every tag, without regard to case");
    assert_eq!(ids(&list("tags=old&isFavorite=false").await), [id(2)]);
    let rated = ids(&list("sort=rating&order=desc").await);
    assert_eq!(rated[..3], [id(1), id(2), id(0)], "5, 4, 2, then the unrated");
    assert_eq!(ids(&list("sort=viewCount").await)[0], id(1));
    assert_eq!(list("sort=viewCount").await.data()["scenarios"][0]["viewCount"], 2, "one view per viewer and day");
    edit(&server, &token, &id(3), json!({"title": "Touched last"})).await;
    assert_eq!(ids(&list("sort=updatedAt").await)[0], id(3));

    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| d.to_string();
    let from_today = format!("dateFrom={}&dateTo={}", day(today), day(today));
    let answer = get(&server, &format!("/api/scenarios/my?{from_today}"), Some(&token)).await;
    assert_eq!(answer.data()["pagination"]["total"], 6, "{answer:?}");
    let tomorrow = day(today.next_day().unwrap());
    let answer = get(&server, &format!("/api/scenarios/my?dateFrom={tomorrow}"), Some(&token)).await;
    assert_eq!(answer.data()["pagination"]["total"], 0);
    let cut = made[3]["createdAt"].as_str().unwrap();
    let answer =
        get(&server, &format!("/api/scenarios/my?dateFrom={cut}&sort=createdAt&order=asc"), Some(&token)).await;
    assert_eq!(ids(&answer)[..3], [id(3), id(4), id(5)][..3.min(ids(&answer).len())]);

    let page = list("limit=4&page=2").await;
    assert_eq!(ids(&page), [id(1), id(0)]);
    assert_eq!(page.data()["pagination"]["totalPages"], 2);
    assert_eq!(page.data()["pagination"]["hasNext"], false);

    for bad in [
        "sort=title",
        "order=up",
        "limit=0",
        "limit=101",
        "isFavorite=yes",
        "promptType=epic",
        "dateFrom=soon",
        "q=x",
        "colour=red",
        "cursor=!!",
        "dateFrom=2026-12-02&dateTo=2026-12-01",
    ] {
        let answer = get(&server, &format!("/api/scenarios/my?{bad}"), Some(&token)).await;
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
    }
    assert_eq!(get(&server, "/api/scenarios/my", None).await.status, 401);
}

#[tokio::test]
async fn cursor_pages_neither_skip_nor_repeat_while_scenarios_arrive() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "pager").await;
    let mut before = HashSet::new();
    for i in 0..12 {
        before.insert(id_of(&create(&server, &token, &format!("What if page item {i} existed?"), "default").await));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/scenarios/my?limit=5&cursor={c}"),
            None => "/api/scenarios/my?limit=5".to_string(),
        };
        let page = get(&server, &path, Some(&token)).await;
        assert_eq!(page.status, 200, "{page:?}");
        seen.extend(ids(&page));
        // New scenarios arrive between pages.
        create(&server, &token, &format!("What if a newcomer {round} arrived?"), "default").await;
        match page.data()["pagination"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "nothing repeated");
    assert_eq!(unique, before, "every scenario that existed at the start, and only those (newcomers sort first)");
}

#[tokio::test]
async fn search_finds_title_topic_tags_and_content_with_or_without_diacritics() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "seeker").await;
    let (other, _) = sign_up(&server, "stranger").await;
    let moon = create(&server, &token, "Điều gì xảy ra nếu Mặt Trăng biến mất?", "scientific").await;
    let cats = create(&server, &token, "What if cats could talk?", "humor").await;
    let tagged = create(&server, &token, "What if rivers ran uphill?", "fantasy").await;
    edit(&server, &token, &id_of(&tagged), json!({"tags": ["thủy văn"]})).await;
    create(&server, &other, "Điều gì xảy ra nếu Mặt Trăng vỡ đôi?", "scientific").await;

    let search = |q: &str| {
        let (server, token, q) = (&server, token.clone(), q.to_string());
        async move {
            let answer = get(server, &format!("/api/scenarios/search?q={q}"), Some(&token)).await;
            assert_eq!(answer.status, 200, "{q}: {answer:?}");
            ids(&answer)
        }
    };
    let moon_id = id_of(&moon);
    assert_eq!(search("Mặt%20Trăng").await, vec![moon_id.clone()], "with diacritics, only mine");
    assert_eq!(search("mat%20trang").await, vec![moon_id.clone()], "without diacritics");
    assert_eq!(search("MAT%20TRANG").await, vec![moon_id.clone()], "case-insensitive");
    assert_eq!(search("bien%20ma").await, vec![moon_id.clone()], "word prefixes");
    assert_eq!(search("cats").await, [id_of(&cats)]);
    assert_eq!(search("thuy%20van").await, [id_of(&tagged)], "tags");
    // A word only in the body of the scenario.
    let body_word =
        cats["sections"][1]["body"].as_str().unwrap().split_whitespace().rev().find(|w| w.len() > 6).unwrap();
    let body_word: String = body_word.chars().filter(|c| c.is_alphanumeric()).collect();
    assert!(search(&body_word).await.contains(&id_of(&cats)), "content: {body_word}");
    assert!(search("zzqx").await.is_empty());
    let filtered = get(&server, "/api/scenarios/search?q=what&promptType=humor", Some(&token)).await;
    assert_eq!(ids(&filtered), [id_of(&cats)]);
    assert_eq!(filtered.data()["pagination"]["total"], 1);
    // After an edit the new title is found.
    edit(&server, &token, &id_of(&cats), json!({"title": "Whiskers parliament"})).await;
    assert_eq!(search("parliament").await, [id_of(&cats)]);
    for bad in ["", "q=", &format!("q={}", "x".repeat(101)), "q=%20%21"] {
        let answer = get(&server, &format!("/api/scenarios/search?{bad}"), Some(&token)).await;
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
    }
}

#[tokio::test]
async fn search_answers_what_the_listing_shows_even_from_a_search_item_of_an_older_release() {
    let (server, _dir) = server().await;
    let (token, owner) = sign_up(&server, "glaciers").await;
    let (stranger, _) = sign_up(&server, "onlooker").await;
    let sung = id_of(&create(&server, &token, "What if glaciers sang?", "scientific").await);
    let danced = id_of(&create(&server, &token, "What if glaciers danced?", "humor").await);
    edit(&server, &token, &sung, json!({"title": "Singing ice", "isPublic": true, "rating": 4})).await;
    assert_eq!(get(&server, &format!("/api/scenarios/{sung}"), Some(&stranger)).await.status, 200);

    // The search answers from its items: the same rows as the listing, with
    // the edit and the stranger's view in them.
    let listing = get(&server, "/api/scenarios/my", Some(&token)).await.data()["scenarios"].clone();
    let search =
        || async { get(&server, "/api/scenarios/search?q=glaciers", Some(&token)).await.data()["scenarios"].clone() };
    let found = search().await;
    assert_eq!(found, listing);
    assert_eq!(found[1]["title"], "Singing ice");
    assert_eq!(found[1]["viewCount"], 1);
    assert_eq!(found[1]["rating"], 4);
    assert!(found[1].get("content").is_none(), "a listing leaves the text out");

    // A search item an older release wrote held only the history entry's
    // fields and the terms; the search still shows the whole row.
    let owner = whatif_shared::UserId::from_trusted(owner);
    let key = whatif_shared::keys::scenario_terms(&owner, &whatif_shared::ScenarioId::from_trusted(danced.clone()));
    let item = server.ctx.table.get(&key).await.unwrap().expect("a search item");
    let kept = [
        "pk",
        "sk",
        "id",
        "promptType",
        "tags",
        "isFavorite",
        "isPublic",
        "rating",
        "viewCount",
        "shareCount",
        "createdAt",
        "updatedAt",
        "terms",
    ];
    let older: whatif_shared::ports::table::Item =
        item.into_iter().filter(|(name, _)| kept.contains(&name.as_str())).collect();
    server.ctx.table.put(older, None).await.unwrap();
    assert_eq!(search().await, listing);
}

#[tokio::test]
async fn stats_follow_create_favourite_rate_delete_and_restore() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "counter").await;
    let stats = || async { get(&server, "/api/scenarios/stats", Some(&token)).await.data()["stats"].clone() };
    assert_eq!(stats().await["totalScenarios"], 0);
    assert_eq!(stats().await["averageRating"], Value::Null);
    let a = id_of(&create(&server, &token, "What if A happened?", "humor").await);
    let b = id_of(&create(&server, &token, "What if B happened?", "humor").await);
    let c = id_of(&create(&server, &token, "What if C happened?", "historical").await);
    let s = stats().await;
    assert_eq!((s["totalScenarios"].as_u64(), s["promptTypes"]["humor"].as_u64()), (Some(3), Some(2)));
    edit(&server, &token, &a, json!({"isFavorite": true, "rating": 4, "tags": ["x"]})).await;
    edit(&server, &token, &b, json!({"rating": 5, "isPublic": true, "tags": ["x", "y"]})).await;
    let s = stats().await;
    assert_eq!(s["favoriteScenarios"], 1);
    assert_eq!(s["publicScenarios"], 1);
    assert_eq!(s["averageRating"], 4.5);
    assert_eq!(s["tags"], json!({"x": 2, "y": 1}));
    let deleted = api::send(&server, Method::DELETE, &format!("/api/scenarios/{a}"), Some(&token), None, &[]).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert!(deleted.data()["restorableUntil"].is_string());
    let s = stats().await;
    assert_eq!((s["totalScenarios"].as_u64(), s["favoriteScenarios"].as_u64()), (Some(2), Some(0)));
    assert_eq!(s["averageRating"], 5.0);
    assert_eq!(get(&server, &format!("/api/scenarios/{a}"), Some(&token)).await.status, 404, "deleted is gone");
    assert!(!ids(&get(&server, "/api/scenarios/my", Some(&token)).await).contains(&a));
    let restored = post(&server, &format!("/api/scenarios/{a}/restore"), Some(&token), json!({})).await;
    assert_eq!(restored.status, 200, "{restored:?}");
    assert_eq!(stats().await["totalScenarios"], 3);
    assert_eq!(stats().await["favoriteScenarios"], 1);
    let again = post(&server, &format!("/api/scenarios/{a}/restore"), Some(&token), json!({})).await;
    assert_eq!((again.status, again.code()), (409, "NOT_DELETED"));
    assert_eq!(get(&server, &format!("/api/scenarios/{c}"), Some(&token)).await.status, 200);
}

#[tokio::test]
async fn bulk_touches_only_the_callers_own_scenarios() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "bulker").await;
    let (other, _) = sign_up(&server, "victim").await;
    let mine: Vec<String> = futures_ids(&server, &token, 3).await;
    let theirs = id_of(&create(&server, &other, "What if they kept theirs?", "default").await);
    let missing = "01JDGZAB3C5D7E9F1G3H5J7K9M".to_string();
    let body = json!({"scenarioIds": [mine[0], theirs, mine[1], missing, "nope"], "operation": "favorite"});
    let answer = patch(&server, "/api/scenarios/bulk", Some(&token), body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.data()["updated"], json!([mine[0], mine[1]]));
    let not: Vec<(String, String)> = answer.data()["notUpdated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap().to_string(), n["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        not,
        [(theirs.clone(), "not found".into()), (missing, "not found".into()), ("nope".into(), "not a valid id".into())],
        "someone else's scenario looks like a missing one"
    );
    let theirs_now = get(&server, &format!("/api/scenarios/{theirs}"), Some(&other)).await;
    assert_eq!(theirs_now.data()["scenario"]["isFavorite"], false, "untouched");

    let tags = json!({"scenarioIds": mine, "operation": "addTags", "data": {"tags": ["bulk", "Bulk", "two"]}});
    assert_eq!(
        patch(&server, "/api/scenarios/bulk", Some(&token), tags).await.data()["updated"].as_array().unwrap().len(),
        3
    );
    let remove = json!({"scenarioIds": [mine[0]], "operation": "removeTags", "data": {"tags": ["TWO"]}});
    patch(&server, "/api/scenarios/bulk", Some(&token), remove).await;
    assert_eq!(
        get(&server, &format!("/api/scenarios/{}", mine[0]), Some(&token)).await.data()["scenario"]["tags"],
        json!(["bulk"])
    );
    assert_eq!(
        get(&server, &format!("/api/scenarios/{}", mine[1]), Some(&token)).await.data()["scenario"]["tags"],
        json!(["bulk", "two"])
    );
    let delete = json!({"scenarioIds": [mine[2], theirs], "operation": "delete"});
    let answer = patch(&server, "/api/scenarios/bulk", Some(&token), delete).await;
    assert_eq!(answer.data()["updated"], json!([mine[2]]));
    assert_eq!(get(&server, &format!("/api/scenarios/{theirs}"), Some(&other)).await.status, 200, "theirs survives");

    let too_many: Vec<String> = (0..51).map(|_| mine[0].clone()).collect();
    for (body, why) in [
        (json!({"scenarioIds": [], "operation": "favorite"}), "no ids"),
        (json!({"scenarioIds": too_many, "operation": "favorite"}), "51 ids"),
        (json!({"scenarioIds": [mine[0]], "operation": "explode"}), "an unknown operation"),
        (json!({"scenarioIds": [mine[0]], "operation": "addTags"}), "tags without data"),
        (json!({"scenarioIds": [mine[0]], "operation": "favorite", "data": {"tags": ["x"]}}), "data it does not take"),
        (json!({"scenarioIds": [mine[0]], "operation": "addTags", "data": {"tags": ["<script>"]}}), "a bad tag"),
    ] {
        let answer = patch(&server, "/api/scenarios/bulk", Some(&token), body).await;
        assert_eq!(answer.status, 400, "{why}: {answer:?}");
    }
}

async fn futures_ids(server: &TestServer, token: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(id_of(&create(server, token, &format!("What if bulk item {i} moved?"), "default").await));
    }
    out
}

#[tokio::test]
async fn private_scenarios_are_404_to_others_and_public_ones_readable() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "owner").await;
    let (other, _) = sign_up(&server, "reader").await;
    let id = id_of(&create(&server, &token, "What if secrets stayed secret?", "default").await);
    let path = format!("/api/scenarios/{id}");
    for who in [Some(other.as_str()), None] {
        let answer = get(&server, &path, who).await;
        assert_eq!((answer.status, answer.code()), (404, "NOT_FOUND"), "{answer:?}");
        assert_eq!(get(&server, &format!("{path}/export?format=md"), who).await.status, 404);
    }
    assert_eq!(patch(&server, &path, Some(&other), json!({"title": "Mine now"})).await.status, 404);
    let deleted = api::send(&server, Method::DELETE, &path, Some(&other), None, &[]).await;
    assert_eq!(deleted.status, 404, "{deleted:?}");
    assert_eq!(get(&server, &format!("{path}/versions"), Some(&other)).await.status, 404);

    edit(&server, &token, &id, json!({"isPublic": true})).await;
    let read = get(&server, &path, Some(&other)).await;
    assert_eq!(read.status, 200, "{read:?}");
    assert_eq!(read.data()["scenario"]["viewCount"], 1);
    assert!(
        read.data()["scenario"].get("userId").is_none() && read.data()["scenario"].get("ownerId").is_none(),
        "no owner id"
    );
    assert!(read.header("etag").is_none(), "only the owner gets the version to edit");
    assert_eq!(get(&server, &path, None).await.status, 200);
    assert_eq!(
        patch(&server, &path, Some(&other), json!({"title": "Mine now"})).await.status,
        404,
        "public is not theirs"
    );
    assert_eq!(get(&server, "/api/scenarios/not-an-id", None).await.status, 400);
}

/// A public scenario shows strangers the story, not its owner's notes on it
/// (rating, favourite flag, tags, version), wherever it is served; the owner
/// still sees everything.
#[tokio::test]
async fn strangers_see_a_public_scenario_without_its_owners_notes() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "diarist").await;
    let (other, _) = sign_up(&server, "passerby").await;
    let id = id_of(&create(&server, &token, "What if diaries were public?", "default").await);
    let path = format!("/api/scenarios/{id}");
    edit(&server, &token, &id, json!({"isPublic": true, "rating": 2, "isFavorite": true, "tags": ["embarrassing"]}))
        .await;
    let notes = ["rating", "isFavorite", "tags", "version"];

    let mine = get(&server, &path, Some(&token)).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(
        (mine.data()["scenario"]["rating"].clone(), mine.data()["scenario"]["isFavorite"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(mine.data()["scenario"]["tags"], json!(["embarrassing"]));
    assert!(mine.data()["scenario"]["version"].is_u64() && mine.header("etag").is_some(), "{mine:?}");
    let tree = get(&server, &format!("{path}/tree"), Some(&token)).await;
    assert_eq!(tree.status, 200, "{tree:?}");
    assert_eq!(tree.data()["nodes"][0]["rating"], 2, "the owner's tree keeps the notes");

    for who in [Some(other.as_str()), None] {
        let read = get(&server, &path, who).await;
        assert_eq!(read.status, 200, "{read:?}");
        assert_eq!(read.data()["scenario"]["id"], json!(id));
        assert!(
            read.data()["scenario"]["title"].is_string() && read.data()["scenario"]["content"].is_string(),
            "the story is there"
        );
        for note in notes {
            assert!(read.data()["scenario"].get(note).is_none(), "{note} shown to a stranger: {read:?}");
        }
        assert!(read.header("etag").is_none());
        let tree = get(&server, &format!("{path}/tree"), who).await;
        assert_eq!(tree.status, 200, "{tree:?}");
        let node = &tree.data()["nodes"][0];
        assert_eq!(node["id"], json!(id));
        for note in notes {
            assert!(node.get(note).is_none(), "{note} in a stranger's tree: {tree:?}");
        }
        let file = get(&server, &format!("{path}/export?format=json"), who).await;
        assert_eq!(file.status, 200);
        assert!(!String::from_utf8_lossy(&file.bytes).contains("embarrassing"), "no tags in a stranger's export");
    }
}

#[tokio::test]
async fn a_stale_concurrent_update_gets_409_and_never_loses_a_write() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "racer").await;
    let id = id_of(&create(&server, &token, "What if two tabs edited at once?", "default").await);
    let path = format!("/api/scenarios/{id}");
    let read = get(&server, &path, Some(&token)).await;
    let etag = read.header("etag").unwrap().to_string();
    assert_eq!(etag, "\"1\"");
    // Two tabs with the same version, at the same moment: exactly one wins.
    let if_match = [("if-match", etag.as_str())];
    let (a, b) = tokio::join!(
        api::send(&server, Method::PATCH, &path, Some(&token), Some(json!({"title": "Tab A"})), &if_match),
        api::send(&server, Method::PATCH, &path, Some(&token), Some(json!({"rating": 3})), &if_match),
    );
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&200) && statuses.contains(&409), "{a:?} {b:?}");
    let loser = if a.status == 409 { &a } else { &b };
    assert_eq!(loser.code(), "VERSION_MISMATCH");
    let now = get(&server, &path, Some(&token)).await;
    assert_eq!(now.header("etag"), Some("\"2\""));
    let won_title = a.status == 200;
    assert_eq!(now.data()["scenario"]["title"] == "Tab A", won_title);
    assert_eq!(now.data()["scenario"]["rating"] == 3, !won_title);
    // The body's version works like If-Match; a stale one is refused too.
    let stale = patch(&server, &path, Some(&token), json!({"isFavorite": true, "version": 1})).await;
    assert_eq!(stale.status, 409);
    let fresh = patch(&server, &path, Some(&token), json!({"isFavorite": true, "version": 2})).await;
    assert_eq!(fresh.status, 200, "{fresh:?}");
    assert_eq!(fresh.data()["scenario"]["version"], 3);
    for (body, why) in [
        (json!({}), "nothing to change"),
        (json!({"title": " "}), "an empty title"),
        (json!({"rating": 6}), "a rating of 6"),
        (json!({"viewCount": 1000}), "a field that is not the owner's to set"),
        (json!({"tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}), "21 tags"),
    ] {
        let answer = patch(&server, &path, Some(&token), body).await;
        assert_eq!(answer.status, 400, "{why}: {answer:?}");
    }
    let cleared = patch(&server, &path, Some(&token), json!({"rating": null})).await;
    assert_eq!(cleared.data()["rating"], Value::Null);
    let bad_etag = api::send(
        &server,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({"isFavorite": false})),
        &[("if-match", "abc")],
    )
    .await;
    assert_eq!(bad_etag.status, 400);
}

#[tokio::test]
async fn versions_list_the_regenerate_chain() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "versioner").await;
    let topic = "What if the printing press came early?";
    let v1 = create(&server, &token, topic, "historical").await;
    let v2 =
        post(&server, "/api/regenerate", Some(&token), json!({"topic": topic, "previousScenarioId": v1["id"]})).await;
    let v2 = v2.data()["scenario"].clone();
    let v3 =
        post(&server, "/api/regenerate", Some(&token), json!({"topic": topic, "previousScenarioId": v2["id"]})).await;
    let v3 = v3.data()["scenario"].clone();
    let versions = get(&server, &format!("/api/scenarios/{}/versions", id_of(&v3)), Some(&token)).await;
    assert_eq!(versions.status, 200, "{versions:?}");
    let chain: Vec<&str> =
        versions.data()["versions"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(chain, [v1["id"].as_str().unwrap(), v2["id"].as_str().unwrap(), v3["id"].as_str().unwrap()]);
    let from_middle = get(&server, &format!("/api/scenarios/{}/versions", id_of(&v2)), Some(&token)).await;
    assert_eq!(from_middle.data()["count"], 2);
}

#[tokio::test]
async fn every_export_format_opens_with_the_text_in_it() {
    let (server, _dir) = server().await;
    let (token, _) = sign_up(&server, "exporter").await;
    let scenario = create(&server, &token, "Điều gì xảy ra nếu Mặt Trăng biến mất?", "scientific").await;
    let id = id_of(&scenario);
    let title = scenario["title"].as_str().unwrap().to_string();
    let heading = scenario["sections"][0]["heading"].as_str().unwrap().to_string();
    let export = |format: &'static str| {
        let (server, token, id) = (&server, token.clone(), id.clone());
        async move {
            let answer = get(server, &format!("/api/scenarios/{id}/export?format={format}"), Some(&token)).await;
            assert_eq!(
                answer.status,
                200,
                "{format}: {}",
                String::from_utf8_lossy(&answer.bytes[..answer.bytes.len().min(300)])
            );
            answer
        }
    };
    let md = export("md").await;
    assert!(md.header("content-type").unwrap().starts_with("text/markdown"));
    let disposition = md.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".md\""), "{disposition}");
    assert!(disposition.is_ascii());
    let text = String::from_utf8(md.bytes.clone()).unwrap();
    assert!(text.contains(&format!("# {title}")) && text.contains(&format!("## {heading}")), "{text}");
    let txt = String::from_utf8(export("txt").await.bytes).unwrap();
    assert!(txt.contains(&title) && txt.contains(&heading) && !txt.contains("## "));
    let json: Value = serde_json::from_slice(&export("json").await.bytes).unwrap();
    assert_eq!(json["title"], title.as_str());

    let pdf = export("pdf").await;
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let extracted = pdf_extract::extract_text_from_mem(&pdf.bytes).expect("a PDF that opens, with its text");
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    assert!(squash(&extracted).contains(&squash(&title)), "the Vietnamese title is in the PDF: {extracted}");
    assert!(squash(&extracted).contains(&squash(&heading)));

    let epub = export("epub").await;
    assert_eq!(epub.header("content-type"), Some("application/epub+zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(epub.bytes.clone())).expect("an EPUB that opens");
    assert_eq!(archive.by_index(0).unwrap().name().unwrap(), "mimetype");
    let mut all_text = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        if file.name().unwrap().ends_with(".xhtml") {
            std::io::Read::read_to_string(&mut file, &mut all_text).unwrap();
        }
    }
    assert!(all_text.contains(&title) && all_text.contains(&heading), "the text is in the EPUB");

    assert_eq!(get(&server, &format!("/api/scenarios/{id}/export?format=docx"), Some(&token)).await.status, 400);
}

#[tokio::test]
async fn a_large_export_is_a_short_lived_link_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse("auth=1000/15m,general=100000/15m,generate=100000/1h").unwrap();
    let server = TestServer::start_in(dir.path(), |config| {
        config.rate_limits = limits;
        // The EPUB (with its font, about 265 KB) is over this; the markdown is not.
        config.export_inline_max_bytes = 64 * 1024;
    })
    .await;
    let (token, _) = sign_up(&server, "big-exporter").await;
    let (other, _) = sign_up(&server, "big-reader").await;
    let id = id_of(&create(&server, &token, "What if every book had a twin?", "fantasy").await);
    let md = get(&server, &format!("/api/scenarios/{id}/export?format=md"), Some(&token)).await;
    assert!(md.header("content-disposition").is_some(), "small files stay inline");
    let epub = get(&server, &format!("/api/scenarios/{id}/export?format=epub"), Some(&token)).await;
    assert_eq!(epub.status, 200, "{epub:?}");
    let link = epub.data().clone();
    assert_eq!(link["contentType"], "application/epub+zip");
    assert!(link["fileName"].as_str().unwrap().ends_with(".epub"));
    assert!(link["expiresAt"].is_string());
    let download = server.http.get(link["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(download.status(), 200);
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, link["bytes"].as_u64().unwrap());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("the EPUB opens");
    assert_eq!(archive.by_index(0).unwrap().name().unwrap(), "mimetype");
    // Someone else still cannot get a private scenario's export.
    assert_eq!(get(&server, &format!("/api/scenarios/{id}/export?format=epub"), Some(&other)).await.status, 404);
}
