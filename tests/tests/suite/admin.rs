//! Admin and moderation over HTTP, on the embedded backend and on the AWS
//! adapters (DynamoDB Local and moto): each role against the admin routes,
//! accounts found and changed (a ban stops a live token at once and closes
//! its sessions; a suspension ends; credits through the ledger), the last
//! active admin kept under a race, the report queue and each action observed
//! from the outside, and an audit entry for every action and security event.

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::auth::Role;
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::api::{self, Answer, PASSWORD, get, patch, post};
use whatif_tests::{TestServer, emulator_endpoint, unique_suffix, wait_until};

const LIMITS: &str = "auth=1000/15m,general=100000/15m,generate=100000/1h,write-social=100000/15m";

struct Person {
    token: String,
    refresh: String,
    id: String,
    email: String,
}

async fn person(server: &TestServer, tag: &str) -> Person {
    let email = format!("{tag}.{}@example.com", unique_suffix());
    let answer = post(server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let field = |name: &str| answer.data()[name].as_str().unwrap().to_string();
    Person {
        token: field("accessToken"),
        refresh: field("refreshToken"),
        id: answer.data()["user"]["id"].as_str().unwrap().into(),
        email,
    }
}

async fn admin_patch(server: &TestServer, admin: &Person, user: &str, body: Value) -> Answer {
    patch(server, &format!("/api/admin/users/{user}"), Some(&admin.token), body).await
}

async fn public_scenario(server: &TestServer, owner: &Person, topic: &str) -> String {
    let answer =
        post(server, "/api/generate", Some(&owner.token), json!({"topic": topic, "options": {"length": "short"}}))
            .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let id = answer.data()["scenario"]["id"].as_str().unwrap().to_string();
    let made = patch(server, &format!("/api/scenarios/{id}"), Some(&owner.token), json!({"isPublic": true})).await;
    assert_eq!(made.status, 200, "{made:?}");
    id
}

async fn report(server: &TestServer, who: &Person, kind: &str, id: &str, reason: &str) -> String {
    let body = json!({"targetType": kind, "targetId": id, "reason": reason});
    let answer = post(server, "/api/report", Some(&who.token), body).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    answer.data()["reportId"].as_str().unwrap().to_string()
}

/// The open case of a target, from the moderator's queue.
async fn case_of(server: &TestServer, moderator: &Person, target: &str) -> Value {
    let queue = get(server, "/api/admin/reports?status=open&limit=100", Some(&moderator.token)).await;
    assert_eq!(queue.status, 200, "{queue:?}");
    queue.data()["reports"].as_array().unwrap().iter().find(|c| c["targetId"] == target).cloned().unwrap_or(Value::Null)
}

async fn resolve(server: &TestServer, moderator: &Person, case: &Value, body: Value) -> Answer {
    let id = case["reportId"].as_str().expect("a case id");
    patch(server, &format!("/api/admin/reports/{id}"), Some(&moderator.token), body).await
}

async fn audit(server: &TestServer, admin: &Person, query: &str) -> Vec<Value> {
    let answer = get(server, &format!("/api/admin/audit?limit=100&{query}"), Some(&admin.token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["entries"].as_array().unwrap().clone()
}

async fn moderation_notes(server: &TestServer, who: &Person) -> Vec<String> {
    let answer = get(server, "/api/notifications?limit=100", Some(&who.token)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.data()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "moderation")
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Everything admins and moderators do, the same on every backend.
async fn admin_life(server: &TestServer) {
    let admin = person(server, "admin").await;
    let moderator = person(server, "moderator").await;
    let author = person(server, "author").await;
    let reporter = person(server, "reporter").await;
    let witness = person(server, "witness").await;
    whatif_tests::promote(server, &admin.id, Role::Admin).await;

    // Roles: a moderator is made by an admin's PATCH; users and moderators
    // are refused the admin routes, users the moderators' queue too.
    let made = admin_patch(server, &admin, &moderator.id, json!({"role": "moderator", "note": "trusted"})).await;
    assert_eq!(made.status, 200, "{made:?}");
    assert_eq!(made.data()["user"]["role"], "moderator");
    for (who, path) in
        [(&moderator, "/api/admin/users"), (&moderator, "/api/admin/audit"), (&author, "/api/admin/reports")]
    {
        assert_eq!(get(server, path, Some(&who.token)).await.status, 403, "{path}");
    }
    let raise = admin_patch(server, &moderator, &author.id, json!({"role": "admin"})).await;
    assert_eq!(raise.status, 403, "a moderator never raises a role");
    let me = admin_patch(server, &admin, &admin.id, json!({"credits": 5})).await;
    assert_eq!((me.status, me.code()), (403, "SELF_ACTION"));

    // The users list: search by email, by name with its accents dropped, by role.
    let named = api::send(
        server,
        Method::PUT,
        "/api/users/profile",
        Some(&author.token),
        Some(json!({"displayName": "Trần Thị Bích"})),
        &[],
    )
    .await;
    assert_eq!(named.status, 200);
    let found = get(server, &format!("/api/admin/users?search={}", &author.email[..12]), Some(&admin.token)).await;
    assert!(found.data()["users"].as_array().unwrap().iter().any(|u| u["id"] == author.id.as_str()), "{found:?}");
    let found = get(server, "/api/admin/users?search=tran%20BICH&limit=100", Some(&admin.token)).await;
    assert!(found.data()["users"].as_array().unwrap().iter().any(|u| u["id"] == author.id.as_str()), "{found:?}");
    assert!(!found.body.to_string().contains("passwordHash"), "never a password hash");
    let mods = get(server, "/api/admin/users?role=moderator&limit=100", Some(&admin.token)).await;
    let ids: Vec<&str> = mods.data()["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&moderator.id.as_str()) && !ids.contains(&author.id.as_str()));
    assert_eq!(get(server, "/api/admin/users?role=owner", Some(&admin.token)).await.status, 400);

    // Credits through the ledger.
    let granted = admin_patch(server, &admin, &witness.id, json!({"credits": 50, "note": "a thank-you"})).await;
    assert_eq!(granted.status, 200, "{granted:?}");
    let credits = get(server, "/api/credits", Some(&witness.token)).await;
    assert_eq!(credits.data()["balance"], granted.data()["balance"]);
    assert!(credits.body.to_string().contains("a thank-you"), "the ledger says why: {credits:?}");

    // A ban stops the live token at once and closes the sessions.
    assert_eq!(get(server, "/api/users/profile", Some(&witness.token)).await.status, 200);
    let banned = admin_patch(server, &admin, &witness.id, json!({"status": "banned", "note": "spam ring"})).await;
    assert_eq!(banned.status, 200, "{banned:?}");
    let refused = get(server, "/api/users/profile", Some(&witness.token)).await;
    assert_eq!((refused.status, refused.code()), (403, "ACCOUNT_BANNED"));
    let refresh = post(server, "/api/auth/refresh", None, json!({"refreshToken": witness.refresh})).await;
    assert_eq!(refresh.status, 401, "the sessions are closed: {refresh:?}");
    let login = post(server, "/api/auth/login", None, json!({"email": witness.email, "password": PASSWORD})).await;
    assert_eq!(login.status, 403, "{login:?}");
    // A suspension with an end; lifting it lets the account sign in again.
    let bad_end = admin_patch(server, &admin, &witness.id, json!({"status": "suspended"})).await;
    assert_eq!(bad_end.status, 400, "a suspension needs its end");
    let until = whatif_shared::clock::rfc3339(server.ctx.clock.now() + time::Duration::hours(1));
    let suspended =
        admin_patch(server, &admin, &witness.id, json!({"status": "suspended", "suspendedUntil": until})).await;
    assert_eq!(suspended.data()["user"]["status"], "suspended");
    let login = post(server, "/api/auth/login", None, json!({"email": witness.email, "password": PASSWORD})).await;
    assert_eq!((login.status, login.code()), (403, "ACCOUNT_SUSPENDED"));
    assert_eq!(admin_patch(server, &admin, &witness.id, json!({"status": "active"})).await.status, 200);
    let login = post(server, "/api/auth/login", None, json!({"email": witness.email, "password": PASSWORD})).await;
    assert_eq!(login.status, 200, "{login:?}");
    let entries = audit(server, &admin, &format!("targetType=user&targetId={}", witness.id)).await;
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.status", "user.status", "user.status", "user.credits"], "newest first: {entries:?}");
    assert_eq!(entries[2]["after"]["status"], "banned");
    assert_eq!(entries[2]["before"]["status"], "active");
    assert_eq!(entries[2]["note"], "spam ring");
    assert_eq!(entries[2]["actor"]["id"], admin.id.as_str());
    assert!(entries.iter().all(|e| e["requestId"].is_string() && e["at"].is_string()));

    // The last active admin: two admins demoting each other at once cannot both win.
    let second = person(server, "second-admin").await;
    whatif_tests::promote(server, &second.id, Role::Admin).await;
    let (one, two) = futures::join!(
        admin_patch(server, &admin, &second.id, json!({"role": "user"})),
        admin_patch(server, &second, &admin.id, json!({"role": "user"})),
    );
    let won = [one.status, two.status].iter().filter(|s| **s == 200).count();
    assert_eq!(won, 1, "exactly one demotion: {one:?} {two:?}");
    let loser = if one.status == 200 { &two } else { &one };
    assert!([403, 409].contains(&loser.status), "{loser:?}");
    let admins = get(
        server,
        "/api/admin/users?role=admin&status=active&limit=100",
        Some(if one.status == 200 { &admin.token } else { &second.token }),
    )
    .await;
    let left: Vec<&Value> = admins.data()["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["id"] == admin.id.as_str() || u["id"] == second.id.as_str())
        .collect();
    assert_eq!(left.len(), 1, "one of the two is still an active admin: {admins:?}");
    let admin = if one.status == 200 { admin } else { second };

    // Reports: a case gathers distinct reporters; hiding makes the scenario
    // 404 to a stranger through every route that could show it.
    let hidden = public_scenario(server, &author, "What if the Moon had rings?").await;
    let shared = post(server, &format!("/api/share/{hidden}"), Some(&author.token), json!({})).await;
    let share = shared.data()["shareUrl"].as_str().unwrap().to_string();
    report(server, &reporter, "scenario", &hidden, "violence").await;
    report(server, &moderator, "scenario", &hidden, "spam").await;
    let case = case_of(server, &moderator, &hidden).await;
    assert_eq!(case["reporters"], 2, "{case}");
    assert_eq!(case["target"]["exists"], true);
    assert!(case["target"]["title"].is_string());
    let by_reason =
        get(server, "/api/admin/reports?reason=violence&targetType=scenario&limit=100", Some(&moderator.token)).await;
    assert!(by_reason.body.to_string().contains(&hidden));
    let mine = resolve(server, &author, &case, json!({"action": "dismiss"})).await;
    assert_eq!(mine.status, 403, "a user cannot act on the queue");
    let hid = resolve(server, &moderator, &case, json!({"action": "hide", "note": "graphic"})).await;
    assert_eq!(hid.status, 200, "{hid:?}");
    assert_eq!(hid.data()["report"]["target"]["hidden"], true);
    let again = resolve(server, &moderator, &case, json!({"action": "remove"})).await;
    assert_eq!((again.status, again.code()), (409, "REPORT_CLOSED"));
    assert_eq!(get(server, &format!("/api/scenarios/{hidden}"), Some(&reporter.token)).await.status, 404);
    assert_eq!(get(server, &format!("/api/scenarios/{hidden}"), None).await.status, 404);
    assert_eq!(get(server, &format!("/shared/{share}"), None).await.status, 404);
    assert_eq!(get(server, &format!("/api/sharing/metadata/{share}"), None).await.status, 404);
    assert_eq!(get(server, &format!("/s/{share}"), None).await.status, 404);
    assert_eq!(
        get(server, &format!("/api/scenarios/{hidden}"), Some(&author.token)).await.status,
        200,
        "its owner still sees it"
    );
    let reviewed = get(server, &format!("/api/scenarios/{hidden}"), Some(&moderator.token)).await;
    assert_eq!(reviewed.status, 200, "so do moderators: {reviewed:?}");
    assert_eq!(reviewed.data()["scenario"]["isHidden"], true);
    assert!(case_of(server, &moderator, &hidden).await.is_null(), "both reports resolved by the one action");
    let resolved = get(server, "/api/admin/reports?status=resolved&limit=100", Some(&moderator.token)).await;
    assert!(resolved.body.to_string().contains(&hidden));
    // Hidden, it cannot even be reported again: to the reporter it is not there.
    let body = json!({"targetType": "scenario", "targetId": hidden, "reason": "violence"});
    assert_eq!(post(server, "/api/report", Some(&reporter.token), body).await.status, 404);
    wait_until("the reporter is told", || async { !moderation_notes(server, &reporter).await.is_empty() }).await;
    assert!(moderation_notes(server, &author).await.iter().any(|n| n.contains("hidden")));

    // remove: the scenario is gone for good, its owner too sees 404.
    let removed = public_scenario(server, &author, "What if rivers ran uphill?").await;
    report(server, &reporter, "scenario", &removed, "misinformation").await;
    let case = case_of(server, &moderator, &removed).await;
    assert_eq!(resolve(server, &moderator, &case, json!({"action": "remove"})).await.status, 200);
    assert_eq!(get(server, &format!("/api/scenarios/{removed}"), Some(&author.token)).await.status, 404);
    // warn_user: a notification with the note.
    let warned = public_scenario(server, &author, "What if cats voted?").await;
    report(server, &reporter, "scenario", &warned, "spam").await;
    let case = case_of(server, &moderator, &warned).await;
    let warn = resolve(server, &moderator, &case, json!({"action": "warn_user", "note": "tone it down"})).await;
    assert_eq!(warn.status, 200, "{warn:?}");
    assert_eq!(get(server, &format!("/api/scenarios/{warned}"), None).await.status, 200, "a warning hides nothing");
    assert!(moderation_notes(server, &author).await.iter().any(|n| n.contains("tone it down")));
    // A post hidden by a moderator is 404 to a stranger through every route
    // that could show it; a comment removed is gone with its count.
    let created = post(
        server,
        "/api/social/posts",
        Some(&author.token),
        json!({"title": "Rings", "content": "What if the Moon had rings?", "type": "custom", "visibility": "public"}),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let post_id = created.data()["post"]["id"].as_str().or(created.data()["id"].as_str()).unwrap().to_string();
    let said = post(
        server,
        "/api/social/comments",
        Some(&witness_token(server, &witness).await),
        json!({"postId": post_id, "content": "Lovely rings"}),
    )
    .await;
    assert_eq!(said.status, 201, "{said:?}");
    let comment_id = said.data()["comment"]["id"].as_str().or(said.data()["id"].as_str()).unwrap().to_string();
    report(server, &reporter, "comment", &comment_id, "spam").await;
    let case = case_of(server, &moderator, &comment_id).await;
    assert_eq!(case["target"]["excerpt"], "Lovely rings");
    assert_eq!(resolve(server, &moderator, &case, json!({"action": "remove"})).await.status, 200);
    let shown = get(server, &format!("/api/social/posts/{post_id}"), Some(&reporter.token)).await;
    assert_eq!(shown.status, 200, "{shown:?}");
    assert!(
        !shown.body.to_string().contains("Lovely rings") && shown.body.to_string().contains("\"comments\":0"),
        "{shown:?}"
    );
    report(server, &reporter, "post", &post_id, "hate_speech").await;
    let case = case_of(server, &moderator, &post_id).await;
    assert_eq!(resolve(server, &moderator, &case, json!({"action": "hide"})).await.status, 200);
    for path in [format!("/api/social/posts/{post_id}"), format!("/api/social/comments/post/{post_id}")] {
        assert_eq!(get(server, &path, Some(&reporter.token)).await.status, 404, "{path}");
        assert_eq!(get(server, &path, None).await.status, 404, "{path}");
    }
    let like = post(server, &format!("/api/social/posts/{post_id}/like"), Some(&reporter.token), json!({})).await;
    assert_eq!(like.status, 404);
    for feed in [
        "/api/feed/latest?limit=100",
        "/api/feed/trending?timeframe=1d&limit=100",
        "/api/social/posts/feed?type=latest&limit=100",
    ] {
        let answer = get(server, feed, Some(&reporter.token)).await;
        assert_eq!(answer.status, 200, "{feed}: {answer:?}");
        assert!(!answer.body.to_string().contains(&post_id), "{feed} shows the hidden post");
    }
    assert_eq!(
        get(server, &format!("/api/social/posts/{post_id}"), Some(&author.token)).await.status,
        200,
        "its author still sees it"
    );
    assert_eq!(
        get(server, &format!("/api/social/posts/{post_id}"), Some(&moderator.token)).await.status,
        200,
        "so do moderators"
    );

    // A moderator never acts on their own content, nor on an admin's account.
    let own = public_scenario(server, &moderator, "What if moderators rested?").await;
    report(server, &reporter, "scenario", &own, "spam").await;
    let case = case_of(server, &moderator, &own).await;
    let self_action = resolve(server, &moderator, &case, json!({"action": "dismiss"})).await;
    assert_eq!((self_action.status, self_action.code()), (403, "SELF_ACTION"));
    assert_eq!(resolve(server, &admin, &case, json!({"action": "dismiss"})).await.status, 200, "an admin may");
    report(server, &reporter, "user", &admin.id, "harassment").await;
    let case = case_of(server, &moderator, &admin.id).await;
    let up = resolve(server, &moderator, &case, json!({"action": "ban_user"})).await;
    assert_eq!((up.status, up.code()), (403, "ROLE_TOO_LOW"));
    let hide_user = resolve(server, &moderator, &case, json!({"action": "hide"})).await;
    assert_eq!((hide_user.status, hide_user.code()), (422, "ACTION_NOT_APPLICABLE"));
    assert!(!case_of(server, &moderator, &admin.id).await.is_null(), "a refused action leaves the case open");
    // suspend_user through a report: the author's live token stops at once.
    report(server, &reporter, "user", &author.id, "harassment").await;
    let case = case_of(server, &moderator, &author.id).await;
    assert_eq!(get(server, "/api/users/profile", Some(&author.token)).await.status, 200);
    let suspend = resolve(server, &moderator, &case, json!({"action": "suspend_user", "note": "cool off"})).await;
    assert_eq!(suspend.status, 200, "{suspend:?}");
    let refused = get(server, "/api/users/profile", Some(&author.token)).await;
    assert_eq!((refused.status, refused.code()), (403, "ACCOUNT_SUSPENDED"));

    // The audit log: an entry for every action, by action family, by actor.
    let reports = audit(server, &admin, "action=report").await;
    let actions: Vec<&str> = reports.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["report.hide", "report.remove", "report.warn_user", "report.dismiss", "report.suspend_user"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let by_moderator = audit(server, &admin, &format!("actor={}", moderator.id)).await;
    assert!(by_moderator.iter().all(|e| e["actor"]["id"] == moderator.id.as_str()));
    assert_eq!(by_moderator.len(), 6, "two hides, two removals, a warning, a suspension: {by_moderator:?}");

    // Security events: a sign-in lockout and a refresh token used twice.
    let victim = person(server, "victim").await;
    for _ in 0..5 {
        post(server, "/api/auth/login", None, json!({"email": victim.email, "password": "wrong horse 1"})).await;
    }
    let refreshed = post(server, "/api/auth/refresh", None, json!({"refreshToken": victim.refresh})).await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let replayed = post(server, "/api/auth/refresh", None, json!({"refreshToken": victim.refresh})).await;
    assert_eq!(replayed.status, 401);
    let security = audit(server, &admin, &format!("action=security&targetType=user&targetId={}", victim.id)).await;
    let actions: Vec<&str> = security.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"security.signin_lockout") && actions.contains(&"security.refresh_reuse"), "{actions:?}");

    // The last active admin cannot close their account either.
    let body = json!({"password": PASSWORD});
    let leaving =
        api::send(server, Method::DELETE, "/api/users/delete-account", Some(&admin.token), Some(body), &[]).await;
    assert_eq!((leaving.status, leaving.code()), (409, "LAST_ADMIN"));
    assert_eq!(get(server, "/api/admin/audit?limit=1", Some(&admin.token)).await.status, 200, "still an admin");

    // The log outlives the accounts it names, and no route changes it.
    let body = json!({"password": PASSWORD});
    let closing =
        api::send(server, Method::DELETE, "/api/users/delete-account", Some(&reporter.token), Some(body), &[]).await;
    assert_eq!(closing.status, 202, "{closing:?}");
    wait_until("the account is deleted", || async {
        post(server, "/api/auth/login", None, json!({"email": reporter.email, "password": PASSWORD})).await.status
            == 401
    })
    .await;
    let kept = audit(server, &admin, &format!("actor={}", moderator.id)).await;
    assert_eq!(kept.len(), 6);
    for method in [Method::DELETE, Method::PUT, Method::PATCH, Method::POST] {
        let answer = api::send(server, method, "/api/admin/audit", Some(&admin.token), Some(json!({})), &[]).await;
        assert_eq!(answer.status, 405, "the audit log is read only");
    }
}

/// A fresh access token of `who` (their first was revoked by a suspension and its lifting).
async fn witness_token(server: &TestServer, who: &Person) -> String {
    let login = post(server, "/api/auth/login", None, json!({"email": who.email, "password": PASSWORD})).await;
    assert_eq!(login.status, 200, "{login:?}");
    login.data()["accessToken"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_and_moderation_work_on_the_embedded_backend() {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse(LIMITS).unwrap();
    let server = TestServer::start_in(dir.path(), |config| config.rate_limits = limits).await;
    admin_life(&server).await;
}

#[tokio::test]
async fn admin_and_moderation_work_on_dynamodb_local_and_moto() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let limits = RateLimits::parse(LIMITS).unwrap();
    let (server, _data) = whatif_tests::start_on_emulators(&dynamodb, &moto, |c| c.rate_limits = limits).await;
    admin_life(&server).await;
    server.stop().await;
}

#[test]
fn a_suspension_ends_at_its_time() {
    use whatif_shared::accounts::user::{AccountStatus, User};
    let mut user: User = serde_json::from_value(json!({
        "id": "u", "email": "u@example.com", "emailVerified": true, "username": null, "firstName": null,
        "lastName": null, "displayName": null, "bio": null, "avatarKey": null,
        "preferences": {"theme": "light", "language": "en", "notifications": true, "publicProfile": true},
        "role": "user", "plan": "free", "status": "suspended", "suspendedUntil": 1000, "passwordHash": null,
        "failedLogins": 0, "lockedUntil": null, "createdAt": "x", "updatedAt": "x", "version": 1
    }))
    .unwrap();
    assert_eq!(user.status_at(999), AccountStatus::Suspended);
    assert_eq!(user.status_at(1000), AccountStatus::Active);
    user.status = AccountStatus::Banned;
    assert_eq!(user.status_at(5000), AccountStatus::Banned, "a ban does not end");
}

/// The queue's `reason` filter takes exactly the reasons a report may give.
#[test]
fn the_queue_filters_by_the_reasons_reports_give() {
    let given: Vec<&str> = whatif_sharing::reports::Reason::ALL.iter().map(|r| r.value()).collect();
    assert_eq!(whatif_admin::reports_list::REASONS, given.as_slice());
}
