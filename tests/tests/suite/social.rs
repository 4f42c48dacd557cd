//! The social layer over HTTP, on the embedded backend and on the AWS
//! adapters (DynamoDB Local and moto): posts and their edits, who sees what
//! (followers-only and private posts never reach a stranger through any
//! route), moderators and hidden content, threaded comments, likes whose
//! counts stay exact under 100 concurrent toggles, the latest, trending and
//! following feeds, notifications, achievements, and what the account's
//! export and deletion do with posts, comments and likes.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::UserId;
use whatif_shared::auth::Role;
use whatif_shared::keys;
use whatif_shared::ports::table::{Index, Query, query_all};
use whatif_shared::ratelimit::RateLimits;
use whatif_shared::social::{comments, posts, stats};
use whatif_tests::api::{self, Answer, PASSWORD, get, post};
use whatif_tests::{TestServer, emulator_endpoint};

const LIMITS: &str = "auth=100000/15m,general=100000/15m,generate=100000/1h,write-social=100000/15m";

async fn embedded() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse(LIMITS).unwrap();
    let server = TestServer::start_in(dir.path(), |config| config.rate_limits = limits).await;
    (server, dir)
}

async fn on_emulators() -> Option<(TestServer, tempfile::TempDir)> {
    let dynamodb = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL")?;
    let moto = emulator_endpoint("WHATIF_TEST_MOTO_URL")?;
    let limits = RateLimits::parse(LIMITS).unwrap();
    Some(whatif_tests::start_on_emulators(&dynamodb, &moto, |c| c.rate_limits = limits).await)
}

/// A signed-up account.
#[derive(Clone)]
struct Account {
    token: String,
    id: String,
    email: String,
}

impl Account {
    fn user(&self) -> UserId {
        UserId::from_trusted(&self.id)
    }
}

async fn account(server: &TestServer, tag: &str) -> Account {
    let email = format!("{tag}.{}@example.com", whatif_tests::unique_suffix());
    let answer = post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let token = answer.data()["accessToken"].as_str().expect("a token").to_string();
    let id = answer.data()["user"]["id"].as_str().expect("an id").to_string();
    Account { token, id, email }
}

/// An account made a moderator the way `whatif-local promote-admin` makes an
/// admin, signed in again (tokens carry the role).
async fn moderator(server: &TestServer) -> Account {
    let mut moderator = account(server, "moderator").await;
    whatif_tests::promote(server, &moderator.id, Role::Moderator).await;
    let login = post(server, "/api/auth/login", None, json!({"email": moderator.email, "password": PASSWORD})).await;
    assert_eq!(login.status, 200, "{login:?}");
    moderator.token = login.data()["accessToken"].as_str().unwrap().to_string();
    moderator
}

/// `follower` follows `followee` through the profiles service's route.
async fn follow(server: &TestServer, follower: &Account, followee: &Account) {
    let path = format!("/api/profiles/{}/follow", followee.id);
    let answer = post(server, &path, Some(&follower.token), json!({})).await;
    assert!(answer.status == 200 || answer.status == 201, "{answer:?}");
}

async fn publish(server: &TestServer, who: &Account, title: &str, visibility: &str, tags: Value) -> String {
    let body = json!({"title": title, "content": format!("{title}: the story."), "type": "custom", "visibility": visibility, "tags": tags});
    let answer = post(server, "/api/social/posts", Some(&who.token), body).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.data()["author"]["id"], who.id.as_str());
    answer.data()["id"].as_str().unwrap().to_string()
}

async fn comment(server: &TestServer, who: &Account, post_id: &str, parent: Option<&str>, text: &str) -> Answer {
    let mut body = json!({"postId": post_id, "content": text});
    if let Some(parent) = parent {
        body["parentCommentId"] = json!(parent);
    }
    post(server, "/api/social/comments", Some(&who.token), body).await
}

fn id_of(answer: &Answer) -> String {
    answer.data()["id"].as_str().unwrap_or_else(|| panic!("no id: {answer:?}")).to_string()
}

async fn like(server: &TestServer, who: &Account, post_id: &str) -> Answer {
    post(server, &format!("/api/social/posts/{post_id}/like"), Some(&who.token), json!({})).await
}

async fn send(server: &TestServer, method: Method, path: &str, who: &Account, body: Option<Value>) -> Answer {
    api::send(server, method, path, Some(&who.token), body, &[]).await
}

/// The ids of a feed answer's items.
fn ids(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

async fn feed(server: &TestServer, path: &str, who: Option<&Account>) -> Answer {
    get(server, path, who.map(|a| a.token.as_str())).await
}

async fn post_of(server: &TestServer, id: &str) -> posts::Post {
    posts::get(&server.ctx, id).await.unwrap().expect("the post")
}

async fn notifications(server: &TestServer, who: &Account) -> Vec<Value> {
    let query = Query::partition(Index::Primary, keys::notifications_of(&who.user()));
    query_all(server.ctx.table.as_ref(), query, 1000).await.unwrap().into_iter().map(Value::Object).collect()
}

async fn has_achievement(server: &TestServer, who: &Account, code: &str) -> bool {
    server.ctx.table.get(&keys::achievement(&who.user(), code)).await.unwrap().is_some()
}

/// Everything posts, comments, likes and feeds do, the same on every backend.
async fn social_life(server: &TestServer) {
    let author = account(server, "author").await;
    let follower = account(server, "follower").await;
    let stranger = account(server, "stranger").await;
    let someone = account(server, "someone").await;
    let moderator = moderator(server).await;
    follow(server, &follower, &author).await;
    follow(server, &stranger, &someone).await;

    // Create, get, update (a whitelist), and what a client may not set.
    let open =
        publish(server, &author, "What if the Moon had rings?", "public", json!([" Space ", "SPACE", "Sky"])).await;
    let got = get(server, &format!("/api/social/posts/{open}"), None).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.data()["tags"], json!(["space", "sky"]), "tags folded, trimmed, once each");
    assert_eq!((got.data()["likes"].clone(), got.data()["isLiked"].clone()), (json!(0), json!(false)));
    assert!(has_achievement(server, &author, "first_post").await, "the first post earns first_post");
    for body in [
        json!({"title": "x", "content": "y", "type": "custom", "visibility": "public", "likes": 99}),
        json!({"title": "x", "content": "y", "type": "custom", "visibility": "public", "authorId": stranger.id}),
        json!({"title": "x", "content": "y", "type": "custom", "visibility": "public", "isHidden": true}),
        json!({"title": "   ", "content": "y", "type": "custom", "visibility": "public"}),
        json!({"title": "x", "content": "y", "type": "rant", "visibility": "public"}),
        json!({"title": "x", "content": "y", "type": "custom", "visibility": "public", "tags": ["a,b"]}),
    ] {
        let answer = post(server, "/api/social/posts", Some(&author.token), body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
    }
    let linked = json!({"title": "x", "content": "y", "type": "scenario", "visibility": "public", "scenarioId": "01JDGZ9K2M4N6P8Q0R2S4T6V8W"});
    assert_eq!(post(server, "/api/social/posts", Some(&author.token), linked).await.status, 404, "no such scenario");
    let path = format!("/api/social/posts/{open}");
    let edit =
        send(server, Method::PUT, &path, &author, Some(json!({"title": "What if the Moon had two rings?"}))).await;
    assert_eq!(
        (edit.status, edit.data()["title"].clone()),
        (200, json!("What if the Moon had two rings?")),
        "{edit:?}"
    );
    assert_eq!(edit.data()["content"], "What if the Moon had rings?: the story.", "what is not sent stays");
    for body in [json!({"likes": 5}), json!({"authorId": stranger.id}), json!({"isHidden": false})] {
        assert_eq!(send(server, Method::PUT, &path, &author, Some(body.clone())).await.status, 400, "{body}");
    }
    assert_eq!(send(server, Method::PUT, &path, &stranger, Some(json!({"title": "Mine now"}))).await.status, 403);
    assert_eq!(send(server, Method::PUT, &path, &moderator, Some(json!({"title": "Mod"}))).await.status, 403);

    // Followers-only and private posts: never to a stranger, through any route.
    let circle = publish(server, &author, "For my followers", "followers", json!(["circle"])).await;
    let secret = publish(server, &author, "Only me", "private", json!(["circle"])).await;
    let on_circle = comment(server, &author, &circle, None, "A note to my followers").await;
    assert_eq!(on_circle.status, 201, "{on_circle:?}");
    let circle_comment = id_of(&on_circle);
    for hidden_post in [&circle, &secret] {
        for who in [None, Some(&stranger)] {
            let token = who.map(|a| a.token.as_str());
            assert_eq!(get(server, &format!("/api/social/posts/{hidden_post}"), token).await.status, 404);
            assert_eq!(get(server, &format!("/api/social/comments/post/{hidden_post}"), token).await.status, 404);
        }
        assert_eq!(like(server, &stranger, hidden_post).await.status, 404);
        assert_eq!(comment(server, &stranger, hidden_post, None, "Let me in").await.status, 404);
        for path in [
            "/api/feed/latest?limit=100",
            "/api/feed/trending?limit=100",
            "/api/social/posts/feed?limit=100",
            "/api/social/posts/feed?type=trending&limit=100",
            "/api/social/posts/feed?type=following&limit=100",
        ] {
            assert!(!ids(&feed(server, path, Some(&stranger)).await).contains(hidden_post), "{path}");
        }
        assert!(!ids(&feed(server, "/api/feed/latest?limit=100", None).await).contains(hidden_post));
    }
    let comment_path = format!("/api/social/comments/{circle_comment}/like");
    assert_eq!(send(server, Method::POST, &comment_path, &stranger, Some(json!({}))).await.status, 404);
    let reply_to_hidden = comment(server, &stranger, &open, Some(&circle_comment), "Sneaky").await;
    assert_eq!(reply_to_hidden.status, 404, "a comment of a post one may not see: {reply_to_hidden:?}");
    // The follower sees the followers-only post everywhere, never the private one.
    assert_eq!(get(server, &format!("/api/social/posts/{circle}"), Some(&follower.token)).await.status, 200);
    assert_eq!(get(server, &format!("/api/social/posts/{secret}"), Some(&follower.token)).await.status, 404);
    let following = ids(&feed(server, "/api/social/posts/feed?type=following", Some(&follower)).await);
    assert_eq!(following.iter().filter(|i| **i == circle || **i == open).count(), 2, "{following:?}");
    assert!(!following.contains(&secret), "never a private post");
    assert_eq!(following.first(), Some(&circle), "newest first: {following:?}");
    let tagged = ids(&feed(server, "/api/social/posts/feed?type=following&tags=Circle", Some(&follower)).await);
    assert_eq!(tagged, vec![circle.clone()], "tags filter the following feed too");
    assert_eq!(comment(server, &follower, &circle, None, "Thanks!").await.status, 201);
    assert_eq!(like(server, &follower, &circle).await.status, 200);
    assert_eq!(get(server, "/api/social/posts/feed?type=following", None).await.status, 401);
    // Reports of posts and comments follow the same rule (POST /api/report).
    let report = |kind: &str, id: &str| json!({"targetType": kind, "targetId": id, "reason": "spam"});
    assert_eq!(post(server, "/api/report", Some(&stranger.token), report("post", &circle)).await.status, 404);
    assert_eq!(
        post(server, "/api/report", Some(&stranger.token), report("comment", &circle_comment)).await.status,
        404
    );
    assert_eq!(post(server, "/api/report", Some(&follower.token), report("post", &circle)).await.status, 201);
    assert_eq!(post(server, "/api/report", Some(&author.token), report("post", &circle)).await.status, 422);
    // The author and moderators see the private one.
    assert_eq!(get(server, &format!("/api/social/posts/{secret}"), Some(&author.token)).await.status, 200);
    assert_eq!(get(server, &format!("/api/social/posts/{secret}"), Some(&moderator.token)).await.status, 200);
    // Public again: it joins the public feed; private: it leaves it.
    let to_public = send(
        server,
        Method::PUT,
        &format!("/api/social/posts/{circle}"),
        &author,
        Some(json!({"visibility": "public"})),
    )
    .await;
    assert_eq!(to_public.status, 200, "{to_public:?}");
    assert!(ids(&feed(server, "/api/feed/latest?limit=100", None).await).contains(&circle));
    send(
        server,
        Method::PUT,
        &format!("/api/social/posts/{circle}"),
        &author,
        Some(json!({"visibility": "followers"})),
    )
    .await;
    assert!(!ids(&feed(server, "/api/feed/latest?limit=100", None).await).contains(&circle));

    // Likes: a toggle; isLiked for the caller in every list; notifications; self-likes.
    let liked = like(server, &stranger, &open).await;
    assert_eq!((liked.status, liked.data().clone()), (200, json!({"likes": 1, "isLiked": true})), "{liked:?}");
    let as_liker = feed(server, "/api/social/posts/feed?limit=100", Some(&stranger)).await;
    let item = as_liker.data()["items"].as_array().unwrap().iter().find(|i| i["id"] == open.as_str()).cloned().unwrap();
    assert_eq!(
        (item["kind"].clone(), item["isLiked"].clone(), item["likes"].clone()),
        (json!("post"), json!(true), json!(1))
    );
    assert_eq!(item["author"]["id"], author.id.as_str());
    let as_other = feed(server, "/api/social/posts/feed?limit=100", Some(&someone)).await;
    let item = as_other.data()["items"].as_array().unwrap().iter().find(|i| i["id"] == open.as_str()).cloned().unwrap();
    assert_eq!(item["isLiked"], false);
    assert_eq!(get(server, &format!("/api/social/posts/{open}"), Some(&stranger.token)).await.data()["isLiked"], true);
    let likes_notes: Vec<Value> =
        notifications(server, &author).await.into_iter().filter(|n| n["type"] == "like").collect();
    assert!(
        likes_notes.iter().any(|n| n["targetId"] == open.as_str() && n["actorId"] == stranger.id.as_str()),
        "{likes_notes:?}"
    );
    let unliked = like(server, &stranger, &open).await;
    assert_eq!(unliked.data().clone(), json!({"likes": 0, "isLiked": false}));
    let before = stats::get(&server.ctx, &author.user()).await.unwrap().likes_received;
    let own = like(server, &author, &open).await;
    assert_eq!(own.data().clone(), json!({"likes": 1, "isLiked": true}), "one's own like counts on the post");
    assert_eq!(stats::get(&server.ctx, &author.user()).await.unwrap().likes_received, before, "but not as received");
    like(server, &author, &open).await;

    // Threaded comments, paginated by thread; notifications of comments and replies.
    let thread = publish(server, &author, "Threads", "public", json!([])).await;
    let c1 = id_of(&comment(server, &stranger, &thread, None, "First!").await);
    let r1 = id_of(&comment(server, &someone, &thread, Some(&c1), "A reply").await);
    let r2 = comment(server, &author, &thread, Some(&r1), "A reply to the reply").await;
    assert_eq!((r2.status, r2.data()["threadId"].clone()), (201, json!(c1)), "a reply to a reply joins the thread");
    assert_eq!(r2.data()["parentCommentId"], r1.as_str(), "and keeps the comment it answered");
    let c2 = id_of(&comment(server, &someone, &thread, None, "Second").await);
    let c3 = id_of(&comment(server, &follower, &thread, None, "Third").await);
    assert_eq!(comment(server, &stranger, &thread, None, &"x".repeat(1001)).await.status, 400);
    assert_eq!(comment(server, &stranger, &thread, None, "").await.status, 400);
    let bad = post(
        server,
        "/api/social/comments",
        Some(&stranger.token),
        json!({"postId": thread, "content": "x", "likes": 3}),
    )
    .await;
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(comment(server, &stranger, &open, Some(&c1), "Wrong post").await.status, 422);
    let page1 = get(server, &format!("/api/social/comments/post/{thread}?limit=2"), None).await;
    assert_eq!(page1.status, 200, "{page1:?}");
    let threads = page1.data()["comments"].as_array().unwrap();
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[0]["comment"]["id"], c1.as_str());
    let replies: Vec<&str> =
        threads[0]["replies"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(replies, vec![r1.as_str(), id_of(&r2).as_str()], "replies after their comment, oldest first");
    assert_eq!(threads[1]["comment"]["id"], c2.as_str());
    assert_eq!(page1.data()["pagination"]["total"], 3, "three threads");
    assert_eq!(page1.data()["pagination"]["hasNext"], true);
    let cursor = page1.data()["nextCursor"].as_str().expect("a cursor").to_string();
    let page2 = get(server, &format!("/api/social/comments/post/{thread}?limit=2&cursor={cursor}"), None).await;
    let threads = page2.data()["comments"].as_array().unwrap();
    assert_eq!((threads.len(), threads[0]["comment"]["id"].clone()), (1, json!(c3)), "{page2:?}");
    assert_eq!(page2.data()["pagination"]["hasNext"], false);
    let by_page = get(server, &format!("/api/social/comments/post/{thread}?limit=2&page=2"), None).await;
    assert_eq!(by_page.data()["comments"][0]["comment"]["id"], c3.as_str());
    assert_eq!(post_of(server, &thread).await.comments, 5);
    let notes = notifications(server, &author).await;
    assert!(notes.iter().any(|n| n["type"] == "comment" && n["postId"] == thread.as_str()), "{notes:?}");
    let notes = notifications(server, &stranger).await;
    assert!(notes.iter().any(|n| n["type"] == "reply" && n["postId"] == thread.as_str()), "c1's author: {notes:?}");
    let notes = notifications(server, &someone).await;
    assert!(notes.iter().any(|n| n["type"] == "reply" && n["actorId"] == author.id.as_str()), "r1's author: {notes:?}");
    assert!(has_achievement(server, &stranger, "first_comment").await);
    // Edits: the author's alone.
    let path = format!("/api/social/comments/{c2}");
    assert_eq!(send(server, Method::PUT, &path, &stranger, Some(json!({"content": "Hijack"}))).await.status, 403);
    let edited = send(server, Method::PUT, &path, &someone, Some(json!({"content": "Second, edited"}))).await;
    assert_eq!((edited.status, edited.data()["content"].clone()), (200, json!("Second, edited")));
    // A comment like, and a liked comment in the list.
    let path = format!("/api/social/comments/{c1}/like");
    assert_eq!(send(server, Method::POST, &path, &someone, Some(json!({}))).await.data()["isLiked"], true);
    let list = get(server, &format!("/api/social/comments/post/{thread}"), Some(&someone.token)).await;
    assert_eq!(list.data()["comments"][0]["comment"]["isLiked"], true);
    assert_eq!(list.data()["comments"][0]["comment"]["likes"], 1);
    // Deleting a thread takes its replies, and every count they added.
    let someone_before = stats::get(&server.ctx, &someone.user()).await.unwrap();
    let stranger_before = stats::get(&server.ctx, &stranger.user()).await.unwrap();
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/comments/{c1}"), &someone, None).await.status, 403);
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/comments/{c1}"), &stranger, None).await.status, 200);
    assert_eq!(post_of(server, &thread).await.comments, 2);
    assert_eq!(post_of(server, &thread).await.threads, 2);
    let someone_after = stats::get(&server.ctx, &someone.user()).await.unwrap();
    assert_eq!(someone_after.comments, someone_before.comments - 1, "r1 went with its thread");
    assert_eq!(
        stats::get(&server.ctx, &stranger.user()).await.unwrap().likes_received,
        stranger_before.likes_received - 1
    );
    assert!(comments::get(&server.ctx, &r1).await.unwrap().is_none());

    // Hidden by a moderator: gone for everyone but the author and moderators.
    let hide_me = publish(server, &author, "To be hidden", "public", json!([])).await;
    let hidden_comment = id_of(&comment(server, &stranger, &open, None, "To be hidden too").await);
    posts::set_hidden(&server.ctx, &hide_me, true).await.unwrap();
    comments::set_hidden(&server.ctx, &hidden_comment, true).await.unwrap();
    assert_eq!(get(server, &format!("/api/social/posts/{hide_me}"), Some(&stranger.token)).await.status, 404);
    assert_eq!(get(server, &format!("/api/social/posts/{hide_me}"), Some(&follower.token)).await.status, 404);
    let own_view = get(server, &format!("/api/social/posts/{hide_me}"), Some(&author.token)).await;
    assert_eq!((own_view.status, own_view.data()["isHidden"].clone()), (200, json!(true)));
    assert_eq!(get(server, &format!("/api/social/posts/{hide_me}"), Some(&moderator.token)).await.status, 200);
    assert!(!ids(&feed(server, "/api/feed/latest?limit=100", None).await).contains(&hide_me));
    assert!(
        !ids(&feed(server, "/api/social/posts/feed?type=following&limit=100", Some(&follower)).await)
            .contains(&hide_me)
    );
    let listed = |a: &Answer| -> Vec<String> {
        a.data()["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["comment"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("/api/social/comments/post/{open}");
    assert!(!listed(&get(server, &path, Some(&someone.token)).await).contains(&hidden_comment));
    assert!(listed(&get(server, &path, Some(&stranger.token)).await).contains(&hidden_comment), "its author sees it");
    assert!(listed(&get(server, &path, Some(&moderator.token)).await).contains(&hidden_comment));
    let path = format!("/api/social/comments/{hidden_comment}/like");
    assert_eq!(send(server, Method::POST, &path, &someone, Some(json!({}))).await.status, 404);

    // A moderator deletes someone's post; a stranger may not.
    let doomed = publish(server, &someone, "Against the rules", "public", json!([])).await;
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/posts/{doomed}"), &stranger, None).await.status, 403);
    let gone = send(server, Method::DELETE, &format!("/api/social/posts/{doomed}"), &moderator, None).await;
    assert_eq!(gone.status, 200, "{gone:?}");
    assert_eq!(get(server, &format!("/api/social/posts/{doomed}"), Some(&someone.token)).await.status, 404);
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/posts/{doomed}"), &someone, None).await.status, 404);

    // The author deletes a post with its comments and likes; every count follows.
    let busy = publish(server, &someone, "Busy", "public", json!([])).await;
    let on_busy = id_of(&comment(server, &stranger, &busy, None, "Busy indeed").await);
    like(server, &follower, &busy).await;
    send(server, Method::POST, &format!("/api/social/comments/{on_busy}/like"), &follower, Some(json!({}))).await;
    let (someone_before, stranger_before) = (
        stats::get(&server.ctx, &someone.user()).await.unwrap(),
        stats::get(&server.ctx, &stranger.user()).await.unwrap(),
    );
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/posts/{busy}"), &someone, None).await.status, 200);
    let (someone_after, stranger_after) = (
        stats::get(&server.ctx, &someone.user()).await.unwrap(),
        stats::get(&server.ctx, &stranger.user()).await.unwrap(),
    );
    assert_eq!(someone_after.posts, someone_before.posts - 1);
    assert_eq!(someone_after.likes_received, someone_before.likes_received - 1);
    assert_eq!(stranger_after.comments, stranger_before.comments - 1, "the commenter's count");
    assert_eq!(stranger_after.likes_received, stranger_before.likes_received - 1, "the comment's like");
    let markers =
        query_all(server.ctx.table.as_ref(), Query::partition(Index::Gsi1, keys::likes_by(&follower.user())), 100)
            .await
            .unwrap();
    assert!(markers.iter().all(|m| m["targetId"] != busy.as_str() && m["targetId"] != on_busy.as_str()), "{markers:?}");

    // Latest: public posts and public scenarios, newest first; the cursor
    // neither skips nor repeats while new posts arrive.
    let scenario = post(
        server,
        "/api/generate",
        Some(&someone.token),
        json!({"topic": "What if snow were warm?", "options": {"length": "short"}}),
    )
    .await;
    let scenario = scenario.data()["scenario"]["id"].as_str().expect("a scenario").to_string();
    let made_public =
        api::patch(server, &format!("/api/scenarios/{scenario}"), Some(&someone.token), json!({"isPublic": true}))
            .await;
    assert_eq!(made_public.status, 200, "{made_public:?}");
    let latest = feed(server, "/api/feed/latest", None).await;
    let first = &latest.data()["items"][0];
    assert_eq!((first["kind"].clone(), first["id"].clone()), (json!("scenario"), json!(scenario)), "{latest:?}");
    assert_eq!(first["author"]["id"], someone.id.as_str());
    let mut batch = Vec::new();
    for i in 0..12 {
        batch.push(publish(server, &follower, &format!("Batch {i}"), "public", json!(["batch"])).await);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/api/feed/latest?limit=5".to_string();
    let mut arrived = Vec::new();
    for round in 0..100 {
        let page = feed(server, &path, None).await;
        seen.extend(ids(&page));
        if round < 3 {
            arrived.push(publish(server, &follower, &format!("Arrived {round}"), "public", json!([])).await);
        }
        match page.data()["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/feed/latest?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "nothing repeated");
    assert!(batch.iter().all(|b| seen.contains(b)), "nothing skipped");
    assert!(arrived.iter().all(|a| !seen.contains(a)), "what arrived later is on a fresh first page");
    let positions: Vec<usize> = batch.iter().rev().map(|b| seen.iter().position(|s| s == b).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "newest first");
    let tagged = ids(&feed(server, "/api/feed/latest?tags=batch&limit=100", None).await);
    assert_eq!(tagged.len(), 12, "{tagged:?}");
    assert_eq!(ids(&feed(server, "/api/feed/latest?tags=batch&limit=5&page=3", None).await), tagged[10..].to_vec());

    // Trending: engagement over age, each with its score explained.
    let quiet = publish(server, &author, "Trend quiet", "public", json!(["trend"])).await;
    let liked_post = publish(server, &author, "Trend liked", "public", json!(["trend"])).await;
    let talked = publish(server, &author, "Trend talked", "public", json!(["trend"])).await;
    for who in [&stranger, &someone, &follower] {
        like(server, who, &liked_post).await;
    }
    for who in [&stranger, &someone] {
        assert_eq!(comment(server, who, &talked, None, "Talk").await.status, 201);
    }
    for path in ["/api/feed/trending?timeframe=1d&tags=trend", "/api/social/posts/feed?type=trending&tags=trend"] {
        let answer = feed(server, path, Some(&stranger)).await;
        assert_eq!(ids(&answer), vec![talked.clone(), liked_post.clone(), quiet.clone()], "{path}: {answer:?}");
        let top = &answer.data()["items"][0]["trending"];
        assert_eq!((top["comments"].clone(), top["likes"].clone()), (json!(2), json!(0)), "{top}");
        assert!(top["score"].as_f64().unwrap() > answer.data()["items"][1]["trending"]["score"].as_f64().unwrap());
    }
    assert_eq!(get(server, "/api/feed/trending?timeframe=2d", None).await.status, 400);
    assert_eq!(get(server, "/api/social/posts/feed?type=popular", None).await.status, 400);

    // The author deletes their post.
    assert_eq!(send(server, Method::DELETE, &format!("/api/social/posts/{quiet}"), &author, None).await.status, 200);
    assert_eq!(get(server, &format!("/api/social/posts/{quiet}"), Some(&author.token)).await.status, 404);
}

#[tokio::test]
async fn social_works_end_to_end_on_the_embedded_backend() {
    let (server, _dir) = embedded().await;
    social_life(&server).await;
}

#[tokio::test]
async fn social_works_end_to_end_on_dynamodb_local_and_moto() {
    let Some((server, _data)) = on_emulators().await else { return };
    social_life(&server).await;
    server.stop().await;
}

/// 100 accounts toggle a like on one post at once, then take it back at
/// once: the count ends exact, and so does the author's likesReceived.
async fn concurrent_likes(server: &TestServer) {
    let author = account(server, "popular").await;
    let post_id = publish(server, &author, "Like me", "public", json!([])).await;
    let likers: Vec<Account> = {
        let tags: Vec<String> = (0..100).map(|i| format!("fan{i}")).collect();
        futures::future::join_all(tags.iter().map(|tag| account(server, tag))).await
    };
    for round in [true, false] {
        let answers = futures::future::join_all(likers.iter().map(|a| like(server, a, &post_id))).await;
        for answer in &answers {
            assert_eq!((answer.status, answer.data()["isLiked"].clone()), (200, json!(round)), "{answer:?}");
        }
        let expected = if round { 100 } else { 0 };
        assert_eq!(post_of(server, &post_id).await.likes, expected);
        let got = get(server, &format!("/api/social/posts/{post_id}"), None).await;
        assert_eq!(got.data()["likes"], expected);
        assert_eq!(stats::get(&server.ctx, &author.user()).await.unwrap().likes_received, expected as u64);
        if round {
            assert!(has_achievement(server, &author, "ten_likes_received").await);
            let notes: Vec<Value> =
                notifications(server, &author).await.into_iter().filter(|n| n["type"] == "like").collect();
            assert!(!notes.is_empty() && notes.len() < 100, "a burst of likes gathers: {} notifications", notes.len());
        }
    }
}

#[tokio::test]
async fn social_likes_stay_exact_under_100_concurrent_toggles_on_the_embedded_backend() {
    let (server, _dir) = embedded().await;
    concurrent_likes(&server).await;
}

#[tokio::test]
async fn social_likes_stay_exact_under_100_concurrent_toggles_on_dynamodb_local_and_moto() {
    let Some((server, _data)) = on_emulators().await else { return };
    concurrent_likes(&server).await;
    server.stop().await;
}

/// The export carries the account's posts, comments and likes; the
/// deletion removes them and corrects every count they touched.
#[tokio::test]
async fn social_account_export_and_deletion_cover_posts_comments_and_likes() {
    let (server, _dir) = embedded().await;
    let server = &server;
    let leaver = account(server, "leaver").await;
    let other = account(server, "stayer").await;
    let mine = publish(server, &leaver, "Leaving soon", "public", json!([])).await;
    let theirs = publish(server, &other, "Staying", "public", json!([])).await;
    let their_comment_on_mine = id_of(&comment(server, &other, &mine, None, "Do not go").await);
    let my_comment = id_of(&comment(server, &leaver, &theirs, None, "Goodbye").await);
    let their_comment = id_of(&comment(server, &other, &theirs, None, "Bye").await);
    like(server, &leaver, &theirs).await;
    send(server, Method::POST, &format!("/api/social/comments/{their_comment}/like"), &leaver, Some(json!({}))).await;
    like(server, &other, &mine).await;
    let before = stats::get(&server.ctx, &other.user()).await.unwrap();
    assert_eq!((before.likes_received, before.comments), (2, 2));

    let started = get(server, "/api/users/export", Some(&leaver.token)).await;
    assert_eq!(started.status, 202, "{started:?}");
    let job = api::finished(server, &leaver.token, started.data()["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let url = job["result"]["file"]["downloadUrl"].as_str().expect("a download link").to_string();
    let zip = server.http.get(&url).send().await.unwrap().bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    let mut read = |name: &str| std::io::read_to_string(archive.by_name(name).expect(name)).unwrap();
    assert!(read("social/posts.json").contains(&mine));
    assert!(read("social/comments.json").contains(&my_comment));
    let likes = read("social/likes.json");
    assert!(likes.contains(&theirs) && likes.contains(&their_comment), "{likes}");

    let body = json!({"password": PASSWORD});
    let closing =
        api::send(server, Method::DELETE, "/api/users/delete-account", Some(&leaver.token), Some(body), &[]).await;
    assert_eq!(closing.status, 202, "{closing:?}");
    for _ in 0..300 {
        if posts::get(&server.ctx, &mine).await.unwrap().is_none()
            && comments::get(&server.ctx, &my_comment).await.unwrap().is_none()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..100 {
        if server.ctx.table.get(&keys::user_profile(&leaver.user())).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(posts::get(&server.ctx, &mine).await.unwrap().is_none(), "the account's post");
    assert!(comments::get(&server.ctx, &their_comment_on_mine).await.unwrap().is_none(), "others' comments on it");
    assert!(comments::get(&server.ctx, &my_comment).await.unwrap().is_none(), "its comment on another's post");
    let theirs_now = post_of(server, &theirs).await;
    assert_eq!((theirs_now.likes, theirs_now.comments, theirs_now.threads), (0, 1, 1), "{theirs_now:?}");
    let their_comment_now = comments::get(&server.ctx, &their_comment).await.unwrap().unwrap();
    assert_eq!(their_comment_now.likes, 0);
    let after = stats::get(&server.ctx, &other.user()).await.unwrap();
    assert_eq!(after.likes_received, 0, "the likes the account gave");
    assert_eq!(after.comments, 1, "their comment on the deleted post");
    let left = query_all(server.ctx.table.as_ref(), Query::partition(Index::Gsi1, keys::likes_by(&leaver.user())), 10)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert!(!ids(&feed(server, "/api/feed/latest?limit=100", None).await).contains(&mine));
}
