//! Accounts over HTTP through the local server, as a client sees them: the
//! whole life of an account (on the embedded backend, and on the AWS adapters
//! against DynamoDB Local + moto when `WHATIF_TEST_DYNAMODB_URL` and
//! `WHATIF_TEST_MOTO_URL` are set), forged and tampered access tokens, and
//! concurrent registrations of one address.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::UserId;
use whatif_shared::accounts::{signing, store};
use whatif_shared::jobs::{JobStatus, records};
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, TxOp, Update};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::{TestServer, emulator_endpoint, unique_suffix};

const PASSWORD: &str = "correct horse 1";

// ---------------------------------------------------------------------------
// The client side: requests, answers, sessions.

/// One answer of the API.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    fn data(&self) -> &Value {
        &self.body["data"]
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    fn session(&self) -> Session {
        let field = |name: &str| {
            self.data()[name].as_str().unwrap_or_else(|| panic!("no {name} in the answer: {self:?}")).to_string()
        };
        Session { access: field("accessToken"), refresh: field("refreshToken") }
    }

    fn user_id(&self) -> String {
        self.data()["user"]["id"].as_str().unwrap_or_else(|| panic!("no user id in the answer: {self:?}")).to_string()
    }
}

/// An access token and the refresh token of its session.
#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: String,
}

/// Talks to the API as the web client does.
struct Api<'a>(&'a TestServer);

impl Api<'_> {
    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.0.http.request(method, self.0.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = response.json().await.unwrap_or(Value::Null);
        Answer { status, retry_after, body }
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, None, Some(body)).await
    }

    async fn post_as(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    async fn put_as(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    async fn delete_as(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(Method::DELETE, path, Some(token), Some(body)).await
    }

    async fn profile(&self, token: &str) -> Answer {
        self.send(Method::GET, "/api/users/profile", Some(token), None).await
    }

    async fn register(&self, email: &str, password: &str) -> Answer {
        self.post("/api/auth/register", json!({"email": email, "password": password})).await
    }

    async fn login(&self, email: &str, password: &str) -> Answer {
        self.post("/api/auth/login", json!({"email": email, "password": password})).await
    }

    async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post("/api/auth/refresh", json!({"refreshToken": refresh_token})).await
    }

    /// Signs in and returns the new session (asserting it worked).
    async fn sign_in(&self, email: &str, password: &str) -> Session {
        let answer = self.login(email, password).await;
        assert_eq!(answer.status, 200, "sign in as {email}: {answer:?}");
        answer.session()
    }
}

/// Limits high enough for a whole life cycle from one IP address within
/// minutes (the rate limits have tests of their own).
fn generous_limits() -> RateLimits {
    RateLimits::parse("auth=1000/15m,password-reset=1000/1h,general=10000/15m").expect("valid limits")
}

/// An address no earlier run used (the emulators keep their mail across runs).
fn unique_email(tag: &str) -> String {
    format!("{tag}.{}@example.com", unique_suffix())
}

fn epoch_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The mail the server sent: the outbox folder (embedded) or moto's SES.

struct Mail {
    subject: String,
    body: String,
}

enum Mailbox {
    /// `<data dir>/outbox/*.eml`.
    Outbox(PathBuf),
    /// SES on a moto server: its sent messages, from `/moto-api/data.json`.
    Moto { url: String, http: reqwest::Client },
}

impl Mailbox {
    /// Every message sent to `address`, oldest first.
    async fn to(&self, address: &str) -> Vec<Mail> {
        match self {
            Mailbox::Outbox(dir) => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                    .expect("the outbox folder exists")
                    .map(|entry| entry.expect("an outbox entry").path())
                    .filter(|path| path.extension().is_some_and(|e| e == "eml"))
                    .collect();
                // The names are ULIDs: they sort by time.
                files.sort();
                files
                    .iter()
                    .map(|path| parse_eml(&std::fs::read_to_string(path).expect("read an .eml")))
                    .filter(|(to, _)| to == address)
                    .map(|(_, mail)| mail)
                    .collect()
            }
            Mailbox::Moto { url, http } => {
                let data: Value = http
                    .get(format!("{url}/moto-api/data.json"))
                    .send()
                    .await
                    .expect("moto answers")
                    .json()
                    .await
                    .expect("moto's model data is JSON");
                data["ses"]["Message"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter(|m| {
                        m["destinations"]["ToAddresses"]
                            .as_array()
                            .is_some_and(|to| to.iter().any(|a| a.as_str() == Some(address)))
                    })
                    .map(|m| Mail {
                        subject: m["subject"].as_str().unwrap_or_default().to_string(),
                        body: m["body"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            }
        }
    }

    /// The messages to `address` with this subject.
    async fn with_subject(&self, address: &str, subject: &str) -> Vec<Mail> {
        self.to(address).await.into_iter().filter(|m| m.subject == subject).collect()
    }
}

/// The recipient and content of an outbox message (base64 MIME parts, an
/// RFC 2047 subject), decoded.
fn parse_eml(raw: &str) -> (String, Mail) {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_default().trim().to_string();
    let subject = header("Subject:");
    let subject = subject
        .strip_prefix("=?UTF-8?B?")
        .and_then(|s| s.strip_suffix("?="))
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or(subject);
    let body = raw
        .split("Content-Transfer-Encoding: base64\r\n\r\n")
        .skip(1)
        .map(|part| {
            let encoded: String = part.split("\r\n--").next().unwrap_or_default().split_whitespace().collect();
            String::from_utf8(STANDARD.decode(encoded).expect("a base64 part")).expect("UTF-8 text")
        })
        .collect::<Vec<_>>()
        .join("\n");
    (header("To:"), Mail { subject, body })
}

/// The token of the front-end link `<frontend>/<page>?token=...` in a message.
fn link_token(mail: &Mail, frontend: &str, page: &str) -> String {
    let marker = format!("{frontend}/{page}?token=");
    let start = mail.body.find(&marker).unwrap_or_else(|| panic!("no {marker} link in: {}", mail.body)) + marker.len();
    let token: String =
        mail.body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert!(token.len() >= 32, "a long random token: {token:?}");
    token
}

// ---------------------------------------------------------------------------
// How the server is started.

/// A running server, where its mail goes, and what must live as long as it.
struct Running {
    server: TestServer,
    mail: Mailbox,
    data: tempfile::TempDir,
}

/// The local server on the embedded backend over a fresh data folder.
async fn embedded() -> Running {
    let data = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_in(data.path(), |c| c.rate_limits = generous_limits()).await;
    let mail = Mailbox::Outbox(data.path().join("outbox"));
    Running { server, mail, data }
}

/// The local server on the AWS adapters, on DynamoDB Local and moto (see
/// `whatif_tests::start_on_emulators`).
async fn on_emulators(dynamodb: &str, moto: &str) -> Running {
    let (server, data) = whatif_tests::start_on_emulators(dynamodb, moto, |c| c.rate_limits = generous_limits()).await;
    let mail = Mailbox::Moto { url: moto.to_string(), http: reqwest::Client::new() };
    Running { server, mail, data }
}

// ---------------------------------------------------------------------------
// The life of an account, the same on every backend.

async fn account_life(running: &Running) {
    let api = Api(&running.server);
    let mail = &running.mail;
    let frontend = running.server.ctx.config.frontend_url.clone();
    let email = unique_email("ada");

    // Registration: weak passwords are refused; then signed in at once, and a verification email goes out.
    for weak in ["short1!", "onlyletters", "1234567890"] {
        let refused = api.register(&email, weak).await;
        assert_eq!(refused.status, 400, "{weak:?}: {refused:?}");
        assert_eq!(refused.body["errors"][0]["field"], "password", "{weak:?}: {refused:?}");
    }
    let registered = api
        .post(
            "/api/auth/register",
            json!({"email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{registered:?}");
    assert_eq!(registered.body["success"], true);
    let user = &registered.data()["user"];
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["role"], "user");
    assert!(user.get("passwordHash").is_none(), "no password hash in the answer: {user}");
    assert_eq!(registered.data()["expiresIn"], 900);
    let user_id = registered.user_id();
    let first = registered.session();

    let profile = api.profile(&first.access).await;
    assert_eq!(profile.status, 200, "{profile:?}");
    assert_eq!(profile.data()["user"]["id"], user_id.as_str());
    assert_eq!(profile.data()["user"]["emailVerified"], false);

    // Email verification by the emailed link, once.
    let verification = mail.with_subject(&email, "Confirm your email address").await;
    assert_eq!(verification.len(), 1, "one verification email to {email}");
    let token = link_token(&verification[0], &frontend, "verify-email");
    let verified = api.post("/api/auth/verify-email", json!({"token": token})).await;
    assert_eq!(verified.status, 200, "{verified:?}");
    assert_eq!(api.profile(&first.access).await.data()["user"]["emailVerified"], true);
    let again = api.post("/api/auth/verify-email", json!({"token": token})).await;
    assert_eq!((again.status, again.code()), (400, "TOKEN_INVALID"), "the link works once: {again:?}");
    let resend = api.post_as(&first.access, "/api/auth/resend-verification", json!({})).await;
    assert_eq!((resend.status, resend.code()), (400, "ALREADY_VERIFIED"), "{resend:?}");

    // Sign-in.
    let wrong = api.login(&email, "wrong horse 1").await;
    assert_eq!((wrong.status, wrong.code()), (401, "INVALID_CREDENTIALS"), "{wrong:?}");
    let unknown = api.login(&unique_email("nobody"), PASSWORD).await;
    assert_eq!(
        (unknown.status, unknown.body["message"].clone()),
        (401, wrong.body["message"].clone()),
        "an unknown email gets the same answer as a wrong password"
    );
    let second = api.sign_in(&email, PASSWORD).await;
    assert_eq!(api.profile(&second.access).await.status, 200);

    // Profile changes: whitelisted fields only.
    let updated = api
        .put_as(
            &second.access,
            "/api/users/profile",
            json!({"bio": "First programmer", "displayName": "Countess", "preferences": {"theme": "dark", "language": "vi"}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{updated:?}");
    let seen = api.profile(&first.access).await;
    let seen = &seen.data()["user"];
    assert_eq!(seen["bio"], "First programmer");
    assert_eq!(seen["displayName"], "Countess");
    assert_eq!(seen["preferences"]["theme"], "dark");
    assert_eq!(seen["preferences"]["language"], "vi");
    assert_eq!(seen["firstName"], "Ada", "fields not sent stay as they were");
    // Preferences are an object: an array of them in order is not read as one.
    let listed =
        api.put_as(&second.access, "/api/users/profile", json!({"preferences": ["light", "en", true, false]})).await;
    assert_eq!((listed.status, listed.body["errors"][0]["field"].clone()), (400, json!("preferences")), "{listed:?}");
    assert_eq!(api.profile(&second.access).await.data()["user"]["preferences"]["theme"], "dark", "nothing changed");
    for forbidden in [json!({"role": "admin"}), json!({"emailVerified": false}), json!({"email": "x@example.com"})] {
        let refused = api.put_as(&second.access, "/api/users/profile", forbidden.clone()).await;
        assert_eq!(refused.status, 400, "{forbidden} is not a profile field: {refused:?}");
    }
    let seen = api.profile(&second.access).await;
    assert_eq!(seen.data()["user"]["role"], "user");
    assert_eq!(seen.data()["user"]["email"], email.as_str());
    assert_eq!(seen.data()["user"]["emailVerified"], true);

    // Refresh rotates; presenting a rotated token again closes that session.
    let refreshed = api.refresh(&first.refresh).await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let rotated = refreshed.session();
    assert_ne!(rotated.refresh, first.refresh, "a new refresh token");
    assert_eq!(api.profile(&rotated.access).await.status, 200);
    let replay = api.refresh(&first.refresh).await;
    assert_eq!((replay.status, replay.code()), (401, "REFRESH_TOKEN_REUSED"), "{replay:?}");
    let newest = api.refresh(&rotated.refresh).await;
    assert_eq!(newest.status, 401, "the newest refresh token of the family is dead too: {newest:?}");
    assert_eq!(api.profile(&rotated.access).await.status, 401, "and so is its access token");
    assert_eq!(api.profile(&first.access).await.status, 401, "and the family's first access token");
    assert_eq!(api.profile(&second.access).await.status, 200, "another session is untouched");

    // Logout closes the session: its access and refresh tokens stop working.
    let out = api.post_as(&second.access, "/api/auth/logout", json!({"refreshToken": second.refresh})).await;
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(api.profile(&second.access).await.status, 401);
    assert_eq!(api.refresh(&second.refresh).await.status, 401);
    // With the refresh token alone (the access token may have expired), too.
    let lone = api.sign_in(&email, PASSWORD).await;
    let out = api.post("/api/auth/logout", json!({"refreshToken": lone.refresh})).await;
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(api.refresh(&lone.refresh).await.status, 401);
    assert_eq!(api.profile(&lone.access).await.status, 401);
    // Logout-all closes every session.
    let (one, two) = (api.sign_in(&email, PASSWORD).await, api.sign_in(&email, PASSWORD).await);
    let out = api.post_as(&one.access, "/api/auth/logout-all", json!({})).await;
    assert_eq!(out.status, 200, "{out:?}");
    for session in [&one, &two] {
        assert_eq!(api.profile(&session.access).await.status, 401);
        assert_eq!(api.refresh(&session.refresh).await.status, 401);
    }

    // Five wrong passwords lock the account, even for the right one.
    let third = api.sign_in(&email, PASSWORD).await;
    for attempt in 1..=4 {
        let failed = api.login(&email, "wrong horse 1").await;
        assert_eq!(failed.status, 401, "attempt {attempt}: {failed:?}");
    }
    let locked = api.login(&email, "wrong horse 1").await;
    assert_eq!((locked.status, locked.code()), (423, "ACCOUNT_LOCKED"), "the fifth failure locks: {locked:?}");
    let retry_after: u64 =
        locked.retry_after.as_deref().and_then(|v| v.parse().ok()).expect("a Retry-After in seconds");
    assert!((1..=15 * 60).contains(&retry_after), "locked for at most 15 minutes: {retry_after}");
    assert_eq!(locked.body["retryAfter"], retry_after);
    let still = api.login(&email, PASSWORD).await;
    assert_eq!(still.status, 423, "the right password is refused while locked: {still:?}");

    // Forgot password: the same answer for any address, mail only for a real account.
    let stranger = unique_email("stranger");
    let forgot_unknown = api.post("/api/auth/forgot-password", json!({"email": stranger})).await;
    assert_eq!(forgot_unknown.status, 200, "{forgot_unknown:?}");
    let forgot = api.post("/api/auth/forgot-password", json!({"email": email})).await;
    assert_eq!(forgot.status, 200, "{forgot:?}");
    assert_eq!(forgot.body["message"], forgot_unknown.body["message"], "the answer does not tell");
    assert!(mail.to(&stranger).await.is_empty(), "no mail to an address without an account");
    let resets = mail.with_subject(&email, "Reset your password").await;
    assert_eq!(resets.len(), 1, "one reset email to {email}");
    let reset_token = link_token(&resets[0], &frontend, "reset-password");

    // Reset: every session ends, the account is unlocked, only the new password works.
    let new_password = "new horse 2!";
    let mismatch = api
        .post(
            "/api/auth/reset-password",
            json!({"token": reset_token, "password": new_password, "confirmPassword": "other horse 3"}),
        )
        .await;
    assert_eq!(mismatch.status, 400, "{mismatch:?}");
    // The link is single-use, even when it is clicked several times at once.
    let body = json!({"token": reset_token, "password": new_password, "confirmPassword": new_password});
    let resets = futures::future::join_all((0..3).map(|_| api.post("/api/auth/reset-password", body.clone()))).await;
    assert_eq!(resets.iter().filter(|r| r.status == 200).count(), 1, "one reset: {resets:?}");
    assert_eq!(resets.iter().filter(|r| r.status == 400).count(), 2, "{resets:?}");
    assert_eq!(api.profile(&third.access).await.status, 401, "sessions from before the reset are closed");
    assert_eq!(api.refresh(&third.refresh).await.status, 401);
    let reused = api
        .post(
            "/api/auth/reset-password",
            json!({"token": reset_token, "password": "third horse 3", "confirmPassword": "third horse 3"}),
        )
        .await;
    assert_eq!(reused.status, 400, "the reset link works once: {reused:?}");
    assert_eq!(api.login(&email, PASSWORD).await.status, 401, "the old password is gone");
    let fourth = api.sign_in(&email, new_password).await;

    // Change password: this session stays, the others end.
    let other = api.sign_in(&email, new_password).await;
    let changed_password = "newer horse 3?";
    let wrong_current = api
        .put_as(
            &fourth.access,
            "/api/users/change-password",
            json!({"currentPassword": "wrong horse 1", "newPassword": changed_password, "confirmPassword": changed_password}),
        )
        .await;
    assert_eq!(wrong_current.status, 400, "{wrong_current:?}");
    assert_eq!(api.profile(&other.access).await.status, 200, "a refused change closes nothing");
    let changed = api
        .put_as(
            &fourth.access,
            "/api/users/change-password",
            json!({"currentPassword": new_password, "newPassword": changed_password, "confirmPassword": changed_password}),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(api.profile(&fourth.access).await.status, 200, "the session that changed it stays");
    assert_eq!(api.profile(&other.access).await.status, 401, "other sessions end");
    assert_eq!(api.refresh(&other.refresh).await.status, 401);
    assert_eq!(mail.with_subject(&email, "Your password was changed").await.len(), 1, "a notice is sent");
    assert_eq!(api.login(&email, new_password).await.status, 401);
    let fourth = {
        // The kept session still refreshes.
        let refreshed = api.refresh(&fourth.refresh).await;
        assert_eq!(refreshed.status, 200, "{refreshed:?}");
        refreshed.session()
    };

    // Change email: the new address must be verified, the old one is free, and a
    // reset link sent to the old address before the change no longer works.
    let forgot = api.post("/api/auth/forgot-password", json!({"email": email})).await;
    assert_eq!(forgot.status, 200, "{forgot:?}");
    let resets = mail.with_subject(&email, "Reset your password").await;
    assert_eq!(resets.len(), 2, "a second reset email to {email}");
    let stale_reset = link_token(&resets[1], &frontend, "reset-password");
    let new_email = unique_email("countess");
    let wrong_password = api
        .put_as(&fourth.access, "/api/users/change-email", json!({"newEmail": new_email, "password": PASSWORD}))
        .await;
    assert_eq!(wrong_password.status, 400, "{wrong_password:?}");
    let moved = api
        .put_as(&fourth.access, "/api/users/change-email", json!({"newEmail": new_email, "password": changed_password}))
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(moved.data()["emailVerified"], false);
    let seen = api.profile(&fourth.access).await;
    assert_eq!(seen.data()["user"]["email"], new_email.as_str());
    assert_eq!(seen.data()["user"]["emailVerified"], false, "re-verification required");
    assert_eq!(api.login(&email, changed_password).await.status, 401, "the old address no longer signs in");
    let stale = api
        .post(
            "/api/auth/reset-password",
            json!({"token": stale_reset, "password": "hijack horse 9", "confirmPassword": "hijack horse 9"}),
        )
        .await;
    assert_eq!(stale.status, 400, "a reset link sent to the old address: {stale:?}");
    assert_eq!(api.profile(&fourth.access).await.status, 200, "the refused reset closed no session");
    assert_eq!(api.login(&new_email, "hijack horse 9").await.status, 401, "and set no password");
    let verification = mail.with_subject(&new_email, "Confirm your email address").await;
    assert_eq!(verification.len(), 1, "a verification email to the new address");
    let verified = api
        .post("/api/auth/verify-email", json!({"token": link_token(&verification[0], &frontend, "verify-email")}))
        .await;
    assert_eq!(verified.status, 200, "{verified:?}");
    assert_eq!(api.profile(&fourth.access).await.data()["user"]["emailVerified"], true);
    let fifth = api.sign_in(&new_email, changed_password).await;
    let newcomer = api.register(&email, "someone else 9").await;
    assert_eq!(newcomer.status, 201, "the old address can be registered again: {newcomer:?}");
    assert_ne!(newcomer.user_id(), user_id);

    // Delete the account: closed at once, its data deleted by a job.
    let refused =
        api.delete_as(&fourth.access, "/api/users/delete-account", json!({"password": "wrong horse 1"})).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(api.profile(&fourth.access).await.status, 200, "a refused deletion changes nothing");
    let deleted =
        api.delete_as(&fourth.access, "/api/users/delete-account", json!({"password": changed_password})).await;
    assert_eq!(deleted.status, 202, "{deleted:?}");
    let job_id = deleted.data()["jobId"].as_str().expect("a job id").to_string();
    for token in [&fourth.access, &fifth.access] {
        let status = api.profile(token).await.status;
        assert!(status == 401 || status == 403, "the account's access tokens stop at once: {status}");
    }
    // The address is free at once.
    let reborn = api.register(&new_email, PASSWORD).await;
    assert_eq!(reborn.status, 201, "the address can be registered again: {reborn:?}");
    let reborn_id = reborn.user_id();
    assert_ne!(reborn_id, user_id, "a new account");
    assert_eq!(reborn.data()["user"]["emailVerified"], false);
    assert!(reborn.data()["user"]["bio"].is_null(), "nothing of the old account: {reborn:?}");

    wait_for_deletion(&running.server, &job_id).await;
    assert!(
        store::get_user(&running.server.ctx, &user_id).await.expect("read the account").is_none(),
        "the job deleted the account"
    );
    for token in [&fourth.access, &fifth.access] {
        assert_eq!(api.profile(token).await.status, 401, "a deleted account's token is refused");
    }
    for token in [&fourth.refresh, &fifth.refresh] {
        assert_eq!(api.refresh(token).await.status, 401, "a deleted account's refresh token is refused");
    }
    assert_eq!(api.login(&new_email, changed_password).await.status, 401, "the old password opens nothing");
    // The deletion did not touch the account that took the address meanwhile.
    let reborn_session = reborn.session();
    assert_eq!(api.profile(&reborn_session.access).await.data()["user"]["id"], reborn_id.as_str());
    let back = api.sign_in(&new_email, PASSWORD).await;
    assert_eq!(api.profile(&back.access).await.data()["user"]["id"], reborn_id.as_str());
}

/// Waits until the deletion job has run. A deleted account's tokens are
/// refused, so its owner cannot poll `GET /api/jobs/{id}`: this reads the job
/// record, which the job deletes with the rest of the account's items.
pub(crate) async fn wait_for_deletion(server: &TestServer, job_id: &str) {
    for _ in 0..600 {
        match records::get(&server.ctx, job_id).await.expect("read the job") {
            None => return,
            Some(job) if job.status == JobStatus::Failed => panic!("the deletion job failed: {job:?}"),
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("the deletion job {job_id} did not finish within a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_life_on_the_embedded_backend() {
    let running = embedded().await;
    account_life(&running).await;
    running.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_life_on_dynamodb_local_and_moto() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let running = on_emulators(&dynamodb, &moto).await;
    account_life(&running).await;
    running.server.stop().await;
}

// ---------------------------------------------------------------------------
// Forged and tampered access tokens.

/// The current private signing key of an embedded server's data folder.
fn signing_key(data_dir: &std::path::Path) -> (String, EncodingKey, Vec<u8>) {
    let text = std::fs::read_to_string(data_dir.join("secrets").join(signing::SECRET)).expect("the signing keys");
    let set: Value = serde_json::from_str(&text).expect("the signing keys are JSON");
    let current = &set["keys"][0];
    let kid = current["kid"].as_str().expect("a kid").to_string();
    let der = STANDARD.decode(current["pkcs8"].as_str().expect("a PKCS#8 key")).expect("base64");
    let public = URL_SAFE_NO_PAD.decode(current["x"].as_str().expect("the public key")).expect("base64url");
    (kid, EncodingKey::from_ed_der(&der), public)
}

/// An Ed25519 key the server never published (made for this test with openssl).
const OTHER_ED25519: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIO/E8g7Y+qguufQcGUcEhWu6VqDl+DB0eo+6j34LKm+c
-----END PRIVATE KEY-----
";

fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    format!("{}.{}.{signature}", part(header), part(claims))
}

#[tokio::test]
async fn forged_and_tampered_access_tokens_are_refused() {
    let running = embedded().await;
    let api = Api(&running.server);
    let email = unique_email("mallory");
    let registered = api.register(&email, PASSWORD).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let real = registered.session().access;
    let claims = payload_of(&real);
    let (kid, key, public_key) = signing_key(running.data.path());
    let eddsa = |kid: &str| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        header
    };
    let signed = |claims: &Value| jsonwebtoken::encode(&eddsa(&kid), claims, &key).expect("sign");
    let with = |changes: Value| {
        let mut claims = claims.clone();
        for (name, value) in changes.as_object().expect("an object") {
            claims[name] = value.clone();
        }
        claims
    };
    let now = epoch_now();

    // The forging itself works: the same claims, signed again with the key, pass.
    assert_eq!(api.profile(&real).await.status, 200);
    assert_eq!(api.profile(&signed(&claims)).await.status, 200, "a well-made token passes");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900, "issued for 15 minutes");
    let longest = signed(&with(json!({"iat": now, "nbf": now, "exp": now + 900})));
    assert_eq!(api.profile(&longest).await.status, 200, "15 minutes is the longest lifetime, and fine");

    let hs256 = |secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).expect("sign")
    };
    let real_signature = real.rsplit('.').next().expect("a signature").to_string();
    let mut tampered = claims.clone();
    tampered["role"] = json!("admin");
    let attacks = [
        ("alg none", unsigned(&json!({"alg": "none", "typ": "JWT", "kid": kid}), &claims, "")),
        ("alg none with the real signature", unsigned(&json!({"alg": "none", "kid": kid}), &claims, &real_signature)),
        ("HS256 keyed with the public key", hs256(&public_key)),
        ("HS256 keyed with the public JWK x", hs256(URL_SAFE_NO_PAD.encode(&public_key).as_bytes())),
        ("expired", signed(&with(json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})))),
        ("not yet valid", signed(&with(json!({"iat": now, "nbf": now + 3600, "exp": now + 7200})))),
        ("issued in the future", signed(&with(json!({"iat": now + 3600, "nbf": now, "exp": now + 600})))),
        ("wrong issuer", signed(&with(json!({"iss": "https://evil.example"})))),
        ("wrong audience", signed(&with(json!({"aud": "another-api"})))),
        ("no expiry", {
            let mut c = claims.clone();
            c.as_object_mut().expect("claims").remove("exp");
            signed(&c)
        }),
        ("signed by another Ed25519 key under the real kid", {
            let other = EncodingKey::from_ed_pem(OTHER_ED25519.as_bytes()).expect("an Ed25519 key");
            jsonwebtoken::encode(&eddsa(&kid), &claims, &other).expect("sign")
        }),
        ("unknown kid", jsonwebtoken::encode(&eddsa("k-unknown"), &claims, &key).expect("sign")),
        ("no kid", jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).expect("sign")),
        ("role changed to admin, signature kept", {
            let header = real.split('.').next().expect("a header");
            format!("{header}.{}.{real_signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap()))
        }),
        ("another account's id, signature kept", {
            let header = real.split('.').next().expect("a header");
            let other = with(json!({"sub": "01JAAAAAAAAAAAAAAAAAAAAAAA"}));
            format!("{header}.{}.{real_signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap()))
        }),
        ("garbage", "not.a.jwt".to_string()),
        ("no session id", {
            let mut c = claims.clone();
            c.as_object_mut().expect("claims").remove("sid");
            signed(&c)
        }),
        ("an empty session id", signed(&with(json!({"sid": ""})))),
        ("a lifetime of a day", signed(&with(json!({"iat": now, "nbf": now, "exp": now + 24 * 3600})))),
        ("a lifetime of 15 minutes and a second", signed(&with(json!({"iat": now, "nbf": now, "exp": now + 901})))),
    ];
    for (attack, token) in &attacks {
        let answer = api.profile(token).await;
        assert_eq!(answer.status, 401, "{attack}: {answer:?}");
        assert_eq!(answer.body["success"], false, "{attack}");
    }
    // A bad token is refused even where signing in is optional (the client should refresh).
    let optional = api.post_as(&attacks[0].1, "/api/auth/logout", json!({})).await;
    assert_eq!(optional.status, 401, "{optional:?}");
    assert_eq!(api.profile(&real).await.status, 200, "the real token still works");
    running.server.stop().await;
}

#[tokio::test]
async fn a_banned_account_is_refused_with_its_valid_tokens() {
    let running = embedded().await;
    let api = Api(&running.server);
    let email = unique_email("banned");
    let registered = api.register(&email, PASSWORD).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let session = registered.session();
    let user_id = registered.user_id();
    assert_eq!(api.profile(&session.access).await.status, 200);

    // What a moderator's ban writes: the account and its status item, together.
    running
        .server
        .ctx
        .table
        .transact(vec![
            TxOp::Update {
                key: keys::user_profile(&UserId::from_trusted(&user_id)),
                update: Update::new().set("status", "banned"),
                cond: Some(Cond::Exists),
            },
            TxOp::Update {
                key: keys::account_status(&UserId::from_trusted(&user_id)),
                update: Update::new().set("status", "banned"),
                cond: Some(Cond::Exists),
            },
        ])
        .await
        .expect("ban the account");

    let refused = api.profile(&session.access).await;
    assert_eq!((refused.status, refused.code()), (403, "ACCOUNT_BANNED"), "{refused:?}");
    let login = api.login(&email, PASSWORD).await;
    assert_eq!(login.status, 403, "a banned account cannot sign in: {login:?}");
    let refresh = api.refresh(&session.refresh).await;
    assert_eq!(refresh.status, 403, "nor refresh its session: {refresh:?}");
    running.server.stop().await;
}

// ---------------------------------------------------------------------------
// One address, one account.

/// Ten registrations of one address at once, then case variants of another
/// (one by one and at once): each address makes exactly one account.
async fn one_account_per_address(running: &Running) {
    let api = Api(&running.server);
    let email = unique_email("twin");
    let answers = futures::future::join_all((0..10).map(|_| api.register(&email, PASSWORD))).await;
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    let taken = answers.iter().filter(|a| a.status == 409 && a.code() == "EMAIL_TAKEN").count();
    assert_eq!(created.len(), 1, "exactly one registration wins: {answers:?}");
    assert_eq!(taken, 9, "the others are told the address is taken: {answers:?}");
    let winner = created[0].user_id();
    let signed_in = api.login(&email, PASSWORD).await;
    assert_eq!(signed_in.user_id(), winner, "the address belongs to the winner");

    let suffix = unique_suffix();
    let taken_name = format!("Ada_{}", suffix.replace('-', "_"));
    let first = api
        .post("/api/auth/register", json!({"email": unique_email("u1"), "password": PASSWORD, "username": taken_name}))
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    let second = api
        .post(
            "/api/auth/register",
            json!({"email": unique_email("u2"), "password": PASSWORD, "username": taken_name.to_lowercase()}),
        )
        .await;
    assert_eq!((second.status, second.code()), (409, "USERNAME_TAKEN"), "usernames ignore case: {second:?}");

    let email = format!("grace.hopper.{suffix}@example.com");
    let registered = api.register(&format!("  Grace.Hopper.{suffix}@Example.COM "), PASSWORD).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    assert_eq!(
        registered.data()["user"]["email"],
        format!("Grace.Hopper.{suffix}@example.com"),
        "trimmed, the domain lower-cased"
    );
    for variant in [email.clone(), email.to_uppercase(), format!("grace.HOPPER.{suffix}@example.com")] {
        let again = api.register(&variant, PASSWORD).await;
        assert_eq!((again.status, again.code()), (409, "EMAIL_TAKEN"), "{variant}: {again:?}");
    }
    let login = api.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(login.status, 200, "any case signs in: {login:?}");
    assert_eq!(login.user_id(), registered.user_id());

    let other = format!("Alan.Turing.{suffix}@example.com");
    let variants = [other.clone(), other.to_lowercase(), other.to_uppercase(), other.replace("Alan", "ALAN")];
    let answers = futures::future::join_all(variants.iter().map(|v| api.register(v, PASSWORD))).await;
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1, "one account: {answers:?}");
    let taken = answers.iter().filter(|a| a.status == 409 && a.code() == "EMAIL_TAKEN").count();
    assert_eq!(taken, variants.len() - 1, "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_per_address_on_the_embedded_backend() {
    let running = embedded().await;
    one_account_per_address(&running).await;
    running.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_per_address_on_dynamodb_local_and_moto() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let running = on_emulators(&dynamodb, &moto).await;
    one_account_per_address(&running).await;
    running.server.stop().await;
}

/// The auth limit counts failed attempts per address, not sign-ins: many
/// people behind one address (an office, a carrier NAT) signing in
/// successfully never lock each other out, while guessing stops at the limit.
#[tokio::test]
async fn the_auth_limit_counts_failures_not_successful_sign_ins() {
    use whatif_tests::api;
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data.path(), |c| {
        c.rate_limits = RateLimits::parse("auth=20/15m,general=10000/15m").expect("valid limits")
    })
    .await;
    let email = format!("office.{}@example.com", std::process::id());
    let registered =
        api::post(&server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    for n in 0..25 {
        let answer = api::post(&server, "/api/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(answer.status, 200, "sign-in {n}: {answer:?}");
        assert_eq!(answer.header("x-ratelimit-limit"), Some("20"));
        assert_eq!(answer.header("x-ratelimit-remaining"), Some("20"), "a success costs nothing");
    }
    // Failures (unknown addresses, so no account lockout) count down to the limit.
    for n in 0..20 {
        let stranger = format!("nobody{n}.{}@example.com", std::process::id());
        let answer =
            api::post(&server, "/api/auth/login", None, json!({"email": stranger, "password": "wrong one 1"})).await;
        assert_eq!(answer.status, 401, "failure {n}: {answer:?}");
        assert_eq!(answer.header("x-ratelimit-remaining"), Some((19 - n).to_string().as_str()));
    }
    let answer =
        api::post(&server, "/api/auth/login", None, json!({"email": "x@example.com", "password": "wrong one 1"})).await;
    assert_eq!(answer.status, 429, "{answer:?}");
    assert_eq!(answer.code(), "RATE_LIMITED");
    assert!(answer.header("retry-after").is_some());
    // Once the address is at its limit, a correct password waits too.
    let answer = api::post(&server, "/api/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(answer.status, 429, "{answer:?}");
}

// ---------------------------------------------------------------------------
// Avatars: uploaded under tmp/avatars/<user>/ through a presigned PUT, then
// checked and moved to avatars/<user>/ by the profile.

const MIB: usize = 1024 * 1024;

/// The smallest PNG the checks take (the signature and an IHDR chunk).
fn png() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec()
}

/// A file that starts as a PNG and is `size` bytes long.
fn png_of(size: usize) -> Vec<u8> {
    let mut bytes = png();
    bytes.resize(size, 0);
    bytes
}

/// An answer of `POST /api/users/avatar-upload-url`.
#[derive(Debug, Clone)]
struct Upload {
    url: String,
    key: String,
    headers: Vec<(String, String)>,
}

impl Upload {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Api<'_> {
    async fn avatar_upload(&self, token: &str, body: Value) -> Upload {
        let answer = self.post_as(token, "/api/users/avatar-upload-url", body).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let data = answer.data();
        assert_eq!(data["method"], "PUT", "{answer:?}");
        assert_eq!(data["maxBytes"], 2 * MIB, "{answer:?}");
        let headers = data["headers"].as_object().expect("headers").iter();
        Upload {
            url: data["uploadUrl"].as_str().unwrap().to_string(),
            key: data["key"].as_str().unwrap().to_string(),
            headers: headers.map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect(),
        }
    }

    /// Uploads `body` as the web client does: the listed headers but
    /// Content-Length, which a browser sets itself from the body.
    async fn upload_file(&self, upload: &Upload, content_type: &str, body: Vec<u8>) -> u16 {
        let mut request = self.0.http.put(&upload.url).header("content-type", content_type);
        for (name, value) in &upload.headers {
            if !name.eq_ignore_ascii_case("content-type") && !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name, value);
            }
        }
        request.body(body).send().await.expect("the upload is answered").status().as_u16()
    }

    async fn set_avatar(&self, token: &str, key: Value) -> Answer {
        self.put_as(token, "/api/users/profile", json!({"avatarKey": key})).await
    }
}

/// What the profile does with an upload, the same on every backend: only a
/// real PNG, JPEG or WebP image of at most 2 MiB, uploaded by this account,
/// is taken, and moved out of `tmp/`; what is refused for its content is
/// deleted; the old avatar goes when another replaces it.
async fn avatar_checks(server: &TestServer) {
    let api = Api(server);
    let registered = api.register(&unique_email("avatar"), PASSWORD).await;
    let (session, user_id) = (registered.session(), registered.user_id());
    let token = session.access.as_str();
    let blobs = &server.ctx.blobs;
    let uploads = keys::avatar_uploads_of(&UserId::from_trusted(&user_id));
    let avatars = keys::avatars_of(&UserId::from_trusted(&user_id));

    let upload = api.avatar_upload(token, json!({"contentType": "image/png"})).await;
    assert!(upload.key.starts_with(&uploads), "uploads wait under {uploads}: {upload:?}");
    assert_eq!(upload.header("content-type"), Some("image/png"), "{upload:?}");

    // Requests for an upload URL are checked.
    for bad in [
        json!({"contentType": "text/html"}),
        json!({"contentType": "image/png", "contentLength": 0}),
        json!({"contentType": "image/png", "contentLength": 2 * MIB + 1}),
        json!({"contentType": "image/png", "contentLength": -1}),
        json!({"contentType": "image/png", "contentLength": "12"}),
        json!({"contentType": "image/png", "size": 12}),
    ] {
        let answer = api.post_as(token, "/api/users/avatar-upload-url", bad.clone()).await;
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
    }

    // HTML sent as a PNG: stored by the upload, refused by the profile, and deleted.
    assert_eq!(api.upload_file(&upload, "image/png", b"<html><script>alert(1)</script></html>".to_vec()).await, 200);
    let answer = api.set_avatar(token, json!(upload.key)).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body["errors"][0]["field"], "avatarKey", "{answer:?}");
    assert!(blobs.head(&upload.key).await.unwrap().is_none(), "the refused upload is deleted");

    // Over 2 MiB (S3 stores it when no length was declared): refused and deleted.
    let upload = api.avatar_upload(token, json!({"contentType": "image/png"})).await;
    blobs.put(&upload.key, png_of(3 * MIB).into(), "image/png").await.unwrap();
    let answer = api.set_avatar(token, json!(upload.key)).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.to_string().contains("2 MiB"), "{answer:?}");
    assert!(blobs.head(&upload.key).await.unwrap().is_none(), "the refused upload is deleted");

    // Keys that are not this account's uploads, or not uploaded.
    let not_uploaded = api.avatar_upload(token, json!({"contentType": "image/png"})).await;
    let someone_else = format!("{}x.png", keys::avatar_uploads_of(&UserId::from_trusted("someone-else")));
    for (key, why) in [
        (not_uploaded.key.clone(), "has not been uploaded"),
        (someone_else, "not an upload key of this account"),
        (format!("{avatars}x.png"), "not an upload key of this account"),
        (format!("{uploads}../x.png"), "not an upload key of this account"),
        (format!("{uploads}sub/x.png"), "not an upload key of this account"),
        (uploads.clone(), "not an upload key of this account"),
    ] {
        let answer = api.set_avatar(token, json!(key)).await;
        assert_eq!(answer.status, 400, "{key}: {answer:?}");
        assert!(answer.body.to_string().contains(why), "{key}: {answer:?}");
    }

    // A real PNG of exactly 2 MiB, with its length declared: taken, and moved out of tmp/.
    let upload = api.avatar_upload(token, json!({"contentType": "image/png", "contentLength": 2 * MIB})).await;
    let content_length = (2 * MIB).to_string();
    assert_eq!(upload.header("content-length"), Some(content_length.as_str()), "the signed length: {upload:?}");
    let image = png_of(2 * MIB);
    assert_eq!(api.upload_file(&upload, "image/png", image.clone()).await, 200);
    let answer = api.set_avatar(token, json!(upload.key)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let kept = format!("{avatars}{}", upload.key.strip_prefix(&uploads).unwrap());
    assert_eq!(blobs.list(&avatars).await.unwrap(), [kept.as_str()], "the avatar is kept under {avatars}");
    assert!(blobs.head(&upload.key).await.unwrap().is_none(), "and its upload is gone from tmp/");
    let avatar_url = answer.data()["user"]["avatarUrl"].as_str().expect("an avatar URL").to_string();
    let avatar = server.http.get(avatar_url).send().await.unwrap();
    assert_eq!(avatar.status(), 200);
    assert_eq!(avatar.headers()["content-type"], "image/png");
    if server.ctx.local_blobs.is_some() {
        assert_eq!(avatar.headers()["x-content-type-options"], "nosniff");
    }
    assert_eq!(avatar.bytes().await.unwrap().as_ref(), image.as_slice());

    // A form that sends the same upload key again keeps the avatar.
    let answer = api.put_as(token, "/api/users/profile", json!({"avatarKey": upload.key, "bio": "hi"})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.data()["user"]["bio"], "hi");
    assert_eq!(blobs.list(&avatars).await.unwrap(), [kept.as_str()], "the avatar is kept");

    // Another avatar replaces it; the old one is deleted; null removes the avatar.
    let upload = api.avatar_upload(token, json!({"contentType": "image/png"})).await;
    assert_eq!(api.upload_file(&upload, "image/png", png()).await, 200);
    let answer = api.set_avatar(token, json!(upload.key)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let replaced = format!("{avatars}{}", upload.key.strip_prefix(&uploads).unwrap());
    assert_eq!(blobs.list(&avatars).await.unwrap(), [replaced], "the old avatar is deleted");
    let answer = api.set_avatar(token, Value::Null).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.data()["user"]["avatarUrl"].is_null(), "{answer:?}");
    assert!(blobs.list(&avatars).await.unwrap().is_empty(), "a removed avatar is deleted");
}

/// The profile's checks on the embedded backend.
#[tokio::test]
async fn avatars_must_be_real_images_of_at_most_2_mb() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |c| c.rate_limits = generous_limits()).await;
    avatar_checks(&server).await;
}

/// On the embedded backend the limit holds at the upload: the URL signs the
/// 2 MiB maximum (and the declared length), and the upload endpoint refuses
/// a longer body while reading it, another type, another length or a URL
/// whose maximum was raised; nothing refused is stored.
#[tokio::test]
async fn avatar_uploads_over_the_signed_limit_are_refused_while_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |c| c.rate_limits = generous_limits()).await;
    let api = Api(&server);
    let token = api.register(&unique_email("upload"), PASSWORD).await.session().access;
    let blobs = &server.ctx.blobs;
    let nothing_at =
        |key: String| async move { assert!(blobs.head(&key).await.unwrap().is_none(), "{key} is not stored") };

    // 3 MiB: 413, nothing stored.
    let upload = api.avatar_upload(&token, json!({"contentType": "image/png"})).await;
    assert!(upload.url.contains("maxBytes=2097152"), "the maximum is in the signed URL: {}", upload.url);
    assert_eq!(api.upload_file(&upload, "image/png", png_of(3 * MIB)).await, 413);
    nothing_at(upload.key.clone()).await;

    // Another content type than the signed one: refused.
    assert_eq!(api.upload_file(&upload, "text/html", png()).await, 403);
    nothing_at(upload.key.clone()).await;

    // The maximum raised in the URL: the signature no longer matches.
    let raised = Upload { url: upload.url.replace("maxBytes=2097152", "maxBytes=4194304"), ..upload.clone() };
    assert_ne!(raised.url, upload.url);
    assert_eq!(api.upload_file(&raised, "image/png", png_of(3 * MIB)).await, 403);
    assert_eq!(api.upload_file(&raised, "image/png", png()).await, 403);
    let dropped = Upload { url: upload.url.replace("maxBytes=2097152&", ""), ..upload.clone() };
    assert_ne!(dropped.url, upload.url);
    assert_eq!(api.upload_file(&dropped, "image/png", png()).await, 403, "nor can the maximum be left out");
    nothing_at(upload.key.clone()).await;

    // Exactly 2 MiB: stored.
    assert_eq!(api.upload_file(&upload, "image/png", png_of(2 * MIB)).await, 200);
    assert_eq!(blobs.head(&upload.key).await.unwrap().map(|m| m.size), Some(2 * MIB as u64));

    // A declared length is signed: another length is refused, that one stored.
    let declared = api.avatar_upload(&token, json!({"contentType": "image/png", "contentLength": 100})).await;
    assert!(declared.url.contains("contentLength=100"), "{}", declared.url);
    for n in [99, 101] {
        assert_eq!(api.upload_file(&declared, "image/png", png_of(n)).await, 403, "{n} bytes, not the declared 100");
    }
    nothing_at(declared.key.clone()).await;
    let relabelled = Upload { url: declared.url.replace("contentLength=100", "contentLength=101"), ..declared.clone() };
    assert_eq!(api.upload_file(&relabelled, "image/png", png_of(101)).await, 403, "nor can it be changed");
    nothing_at(declared.key.clone()).await;
    assert_eq!(api.upload_file(&declared, "image/png", png_of(100)).await, 200);
    assert_eq!(blobs.head(&declared.key).await.unwrap().map(|m| m.size), Some(100));

    // A declared Content-Length over the maximum is answered at once, before
    // any of the body, and the connection is closed, not held for the body.
    let big = api.avatar_upload(&token, json!({"contentType": "image/png"})).await;
    let target = big.url.strip_prefix(&server.base).expect("a URL of this server");
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PUT {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        65 * MIB
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server answers and closes without waiting for the body");
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    nothing_at(big.key.clone()).await;

    // A chunked body (no Content-Length) is cut off once it passes the maximum.
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PUT {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let chunk = [format!("{:x}\r\n", 64 * 1024).into_bytes(), vec![0u8; 64 * 1024], b"\r\n".to_vec()].concat();
    let (mut reader, mut writer) = socket.into_split();
    // Sends 3 MiB without an end; the server must answer before the last of it.
    let sender = tokio::spawn(async move {
        for _ in 0..48 {
            if writer.write_all(&chunk).await.is_err() {
                return;
            }
        }
        // Holds the connection open, as a slow client would, until the server closes it.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
    sender.abort();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(read.is_ok(), "the server closes the connection: {answer}");
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    nothing_at(big.key.clone()).await;
}

/// On S3 (moto) a presigned PUT cannot carry a maximum: the declared length
/// is signed (real S3 refuses another; moto checks no signature), uploads
/// wait under `tmp/`, which the bucket's lifecycle rule expires, and the
/// profile checks them and moves the accepted one out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatars_on_s3_are_checked_then_moved_out_of_tmp() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let running = on_emulators(&dynamodb, &moto).await;
    let server = &running.server;
    avatar_checks(server).await;

    let api = Api(server);
    let token = api.register(&unique_email("s3avatar"), PASSWORD).await.session().access;
    let upload = api.avatar_upload(&token, json!({"contentType": "image/webp", "contentLength": 1234})).await;
    let url = reqwest::Url::parse(&upload.url).unwrap();
    let signed = url.query_pairs().find(|(k, _)| k == "X-Amz-SignedHeaders").map(|(_, v)| v.to_string());
    let signed = signed.expect("a SigV4 presigned URL");
    assert!(signed.split(';').any(|h| h == "content-length"), "S3 checks the declared length: {signed}");
    assert!(signed.split(';').any(|h| h == "content-type"), "and the type: {signed}");
    assert_eq!(upload.header("content-length"), Some("1234"), "{upload:?}");
    let unlimited = api.avatar_upload(&token, json!({"contentType": "image/png"})).await;
    assert!(unlimited.key.starts_with(keys::TMP), "{unlimited:?}");
    assert_eq!(unlimited.header("content-length"), None, "{unlimited:?}");
}
