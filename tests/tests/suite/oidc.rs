//! Sign-in with OpenID Connect (`POST /api/auth/oauth/{provider}`) against a
//! fake provider this test serves on 127.0.0.1: its JWKS, and ID tokens signed
//! with its ES256 keys.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use whatif_shared::clock::{Clock, FixedClock, SystemClock};
use whatif_shared::oidc::{MIN_FETCH_GAP_SECS, OidcError, OidcProviders, OidcVerifier, PROVIDERS_VAR};
use whatif_shared::ratelimit::RateLimits;
use whatif_tests::TestServer;

const PROVIDER: &str = "acme";
const CLIENT_ID: &str = "whatif-web";

/// A P-256 key of the fake provider (made for these tests with openssl).
struct TestKey {
    kid: &'static str,
    pkcs8_pem: &'static str,
    x: &'static str,
    y: &'static str,
}

const KEY_A: TestKey = TestKey {
    kid: "acme-2026-a",
    pkcs8_pem: "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUSACnwRD3FIUde/T
9t0dfjF/PK/BFOiNvyIctzSsb2WhRANCAAQDf7L71SufOKRbqbORCMEneP6hawlA
DkQWzFVQIbJHbWeAlMtv/uYCfEXXKplOwHMBPbU8hScHBgIwZ2ZwAxqK
-----END PRIVATE KEY-----
",
    x: "A3-y-9UrnzikW6mzkQjBJ3j-oWsJQA5EFsxVUCGyR20",
    y: "Z4CUy2_-5gJ8RdcqmU7AcwE9tTyFJwcGAjBnZnADGoo",
};

const KEY_B: TestKey = TestKey {
    kid: "acme-2026-b",
    pkcs8_pem: "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjOmJiXNgik9YSgKb
3gC00hPxbq4TwYe3UvZx7gxmVXOhRANCAAST2I9+1RXZ8IPHasOFBh7XdVezxDPm
nDNQBEvh8FbHZNLS6chSLt3xUUt0hYZKoRIuAVZW4EGuIWr0i2AVmMGP
-----END PRIVATE KEY-----
",
    x: "k9iPftUV2fCDx2rDhQYe13VXs8Qz5pwzUARL4fBWx2Q",
    y: "0tLpyFIu3fFRS3SFhkqhEi4BVlbgQa4havSLYBWYwY8",
};

impl TestKey {
    fn jwk(&self) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "x": self.x, "y": self.y, "alg": "ES256", "use": "sig"})
    }

    /// An ID token with these claims, signed by this key under `kid`.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_string());
        let key = EncodingKey::from_ec_pem(self.pkcs8_pem.as_bytes()).expect("a P-256 PKCS#8 key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.kid, claims)
    }
}

/// The provider's JWKS endpoint: serves the keys it is told to, and counts fetches.
struct FakeProvider {
    addr: SocketAddr,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    async fn start(keys: &[&TestKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the fake provider");
        let addr = listener.local_addr().expect("its address");
        let jwks = Arc::new(Mutex::new(Value::Null));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (jwks.clone(), fetches.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (served, counted) = (served.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let (status, body) = if request.starts_with(b"GET /jwks ") {
                        counted.fetch_add(1, Ordering::SeqCst);
                        ("200 OK", served.lock().expect("the JWKS").to_string())
                    } else {
                        ("404 Not Found", "{}".to_string())
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        let provider = Self { addr, jwks, fetches, task };
        provider.publish(keys);
        provider
    }

    /// From now on the JWKS holds exactly these keys.
    fn publish(&self, keys: &[&TestKey]) {
        *self.jwks.lock().expect("the JWKS") = json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn providers(&self) -> OidcProviders {
        let entry = format!("{PROVIDER}|{}|http://{}/jwks|{CLIENT_ID}", self.issuer(), self.addr);
        OidcProviders::from_env(&HashMap::from([(PROVIDERS_VAR.to_string(), entry)])).expect("a valid provider")
    }

    /// The claims of a good ID token for `sub` and `email`, issued at `now`.
    fn claims(&self, sub: &str, email: &str, now: i64) -> Value {
        json!({
            "iss": self.issuer(), "aud": CLIENT_ID, "sub": sub, "email": email, "email_verified": true,
            "iat": now, "exp": now + 600, "given_name": "Ada", "family_name": "Lovelace",
        })
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn epoch_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn unique_email(tag: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{tag}.{}-{}@example.com", std::process::id(), nanos % 1_000_000_000_000)
}

/// The local server trusting `provider`, and its data folder.
async fn server_for(provider: &FakeProvider) -> (TestServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temp dir");
    let providers = provider.providers();
    let server = TestServer::start_in(data.path(), |c| {
        c.oidc = providers;
        c.rate_limits = RateLimits::parse("auth=1000/15m,general=10000/15m").expect("valid limits");
    })
    .await;
    (server, data)
}

/// `(status, body)` of an ID-token sign-in.
async fn sign_in(server: &TestServer, provider: &str, id_token: &str) -> (u16, Value) {
    let response = server
        .http
        .post(server.url(&format!("/api/auth/oauth/{provider}")))
        .json(&json!({"idToken": id_token}))
        .send()
        .await
        .expect("the server answers");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn profile(server: &TestServer, access_token: &str) -> (u16, Value) {
    let response =
        server.http.get(server.url("/api/users/profile")).bearer_auth(access_token).send().await.expect("answers");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_first_sign_in_creates_the_account_and_the_next_finds_it() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, _data) = server_for(&provider).await;
    let email = unique_email("ada");

    let (status, first) =
        sign_in(&server, PROVIDER, &KEY_A.sign(&provider.claims("sub-ada", &email, epoch_now()))).await;
    assert_eq!(status, 201, "a new account: {first}");
    let user = &first["data"]["user"];
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["emailVerified"], true, "the provider verified the address");
    assert_eq!((user["firstName"].clone(), user["lastName"].clone()), (json!("Ada"), json!("Lovelace")));
    let access = first["data"]["accessToken"].as_str().expect("an access token");
    assert!(first["data"]["refreshToken"].is_string());
    let (status, me) = profile(&server, access).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["user"]["id"], user["id"]);

    let (status, second) =
        sign_in(&server, PROVIDER, &KEY_A.sign(&provider.claims("sub-ada", &email, epoch_now()))).await;
    assert_eq!(status, 200, "the same person signs in again: {second}");
    assert_eq!(second["data"]["user"]["id"], user["id"], "the same account");

    // The account has no password: password sign-in cannot open it.
    let login = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": "guessed horse 1"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(login.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_id_tokens_are_refused_and_make_no_account() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, _data) = server_for(&provider).await;
    let email = unique_email("eve");
    let now = epoch_now();
    let good = provider.claims("sub-eve", &email, now);
    let with = |changes: Value| {
        let mut claims = good.clone();
        for (name, value) in changes.as_object().expect("an object") {
            claims[name] = value.clone();
        }
        claims
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KEY_A.kid.to_string());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(KEY_A.x.as_bytes())).expect("sign")
    };
    let refused = [
        ("wrong audience", KEY_A.sign(&with(json!({"aud": "someone-else"}))), 401),
        ("expired", KEY_A.sign(&with(json!({"iat": now - 7200, "exp": now - 3600}))), 401),
        ("wrong issuer", KEY_A.sign(&with(json!({"iss": "https://accounts.google.com"}))), 401),
        ("signed by another key under a published kid", KEY_B.sign_as(KEY_A.kid, &good), 401),
        ("HS256 keyed with public material", hs256, 401),
        ("email not verified", KEY_A.sign(&with(json!({"email_verified": false}))), 403),
        (
            "email_verified missing",
            {
                let mut claims = good.clone();
                claims.as_object_mut().expect("claims").remove("email_verified");
                KEY_A.sign(&claims)
            },
            403,
        ),
    ];
    for (what, token, expected) in &refused {
        let (status, body) = sign_in(&server, PROVIDER, token).await;
        assert_eq!(status, *expected, "{what}: {body}");
        assert_eq!(body["success"], false, "{what}");
        assert!(body["data"].is_null(), "{what}: no tokens");
    }
    let (status, body) = sign_in(&server, "nobody", &KEY_A.sign(&good)).await;
    assert_eq!(status, 404, "an unconfigured provider: {body}");

    let (status, body) = sign_in(&server, PROVIDER, &KEY_A.sign(&good)).await;
    assert_eq!(status, 201, "none of the refused tokens made the account: {body}");
    server.stop().await;
}

#[tokio::test]
async fn a_verified_account_with_the_same_email_is_linked() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, data) = server_for(&provider).await;
    let email = unique_email("grace");
    let password = "correct horse 1";
    let registered = server
        .http
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("answers");
    assert_eq!(registered.status(), 201);
    let registered: Value = registered.json().await.expect("JSON");
    let user_id = registered["data"]["user"]["id"].clone();
    // Verify the address with the emailed link.
    let outbox = data.path().join("outbox");
    let eml = std::fs::read_dir(&outbox).expect("the outbox").next().expect("one email").expect("entry").path();
    let raw = std::fs::read_to_string(eml).expect("read the email");
    let text: String = raw
        .split("Content-Transfer-Encoding: base64\r\n\r\n")
        .nth(1)
        .and_then(|part| part.split("\r\n--").next())
        .map(|b64| b64.split_whitespace().collect())
        .expect("a text part");
    let text = String::from_utf8(STANDARD.decode(text).expect("base64")).expect("UTF-8");
    let token: String = text
        .split("verify-email?token=")
        .nth(1)
        .expect("a verification link")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let verified = server
        .http
        .post(server.url("/api/auth/verify-email"))
        .json(&json!({"token": token}))
        .send()
        .await
        .expect("answers");
    assert_eq!(verified.status(), 200);

    let (status, body) =
        sign_in(&server, PROVIDER, &KEY_A.sign(&provider.claims("sub-grace", &email, epoch_now()))).await;
    assert_eq!(status, 200, "an existing account is signed in: {body}");
    assert_eq!(body["data"]["user"]["id"], user_id, "linked to the account with that verified email");
    let login = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("answers");
    assert_eq!(login.status(), 200, "the password still works for its owner");
    server.stop().await;
}

#[tokio::test]
async fn an_unverified_account_with_the_same_email_is_taken_over_by_its_owner() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, _data) = server_for(&provider).await;
    let email = unique_email("victim");
    // Someone registers the address first and never verifies it.
    let squatter = server
        .http
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": email, "password": "squatter horse 1"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(squatter.status(), 201);
    let squatter: Value = squatter.json().await.expect("JSON");
    let squatter_access = squatter["data"]["accessToken"].as_str().expect("a token").to_string();
    let squatter_refresh = squatter["data"]["refreshToken"].as_str().expect("a token").to_string();

    // The address's owner signs in with the provider, which verified it.
    let (status, body) =
        sign_in(&server, PROVIDER, &KEY_A.sign(&provider.claims("sub-victim", &email, epoch_now()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], squatter["data"]["user"]["id"]);
    assert_eq!(body["data"]["user"]["emailVerified"], true);
    let (status, _) = profile(&server, body["data"]["accessToken"].as_str().expect("a token")).await;
    assert_eq!(status, 200);

    // The squatter is out: session, refresh token and password.
    let (status, _) = profile(&server, &squatter_access).await;
    assert_eq!(status, 401, "the squatter's session ends");
    let refresh = server
        .http
        .post(server.url("/api/auth/refresh"))
        .json(&json!({"refreshToken": squatter_refresh}))
        .send()
        .await
        .expect("answers");
    assert_eq!(refresh.status(), 401);
    let login = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": "squatter horse 1"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(login.status(), 401, "the squatter's password no longer works");
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_provider_is_a_503() {
    let mut provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, _data) = server_for(&provider).await;
    let token = KEY_A.sign(&provider.claims("sub-x", &unique_email("x"), epoch_now()));
    // The provider goes away: its port is closed.
    provider.task.abort();
    let _ = (&mut provider.task).await;
    let (status, body) = sign_in(&server, PROVIDER, &token).await;
    assert_eq!(status, 503, "{body}");
    assert!(!body.to_string().contains("127.0.0.1"), "no internal detail: {body}");
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_key_id_makes_the_verifier_fetch_the_keys_again() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let verifier = OidcVerifier::new(provider.providers(), clock.clone());
    let token = |key: &TestKey| key.sign(&provider.claims("sub-rot", "rot@example.com", clock.epoch_seconds()));

    let identity = verifier.verify(PROVIDER, &token(&KEY_A)).await.expect("a good token");
    assert_eq!((identity.subject.as_str(), identity.email.as_str()), ("sub-rot", "rot@example.com"));
    assert_eq!(provider.fetches(), 1);
    verifier.verify(PROVIDER, &token(&KEY_A)).await.expect("a good token");
    assert_eq!(provider.fetches(), 1, "the keys are cached");

    // The provider rotates: only key B is published, and tokens carry its kid.
    provider.publish(&[&KEY_B]);
    let soon = verifier.verify(PROVIDER, &token(&KEY_B)).await;
    assert_eq!(soon, Err(OidcError::InvalidToken("unknown signing key")), "within the fetch gap");
    assert_eq!(provider.fetches(), 1, "unknown key ids cannot make us hammer the provider");

    clock.advance(Duration::from_secs(MIN_FETCH_GAP_SECS as u64 + 1));
    let identity = verifier.verify(PROVIDER, &token(&KEY_B)).await.expect("the new key is fetched");
    assert_eq!(identity.subject, "sub-rot");
    assert_eq!(provider.fetches(), 2, "one fetch, long before the cached keys expire");
    let retired = verifier.verify(PROVIDER, &token(&KEY_A)).await;
    assert_eq!(retired, Err(OidcError::InvalidToken("unknown signing key")), "the retired key no longer verifies");
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_by_the_server() {
    let provider = FakeProvider::start(&[&KEY_A]).await;
    let (server, _data) = server_for(&provider).await;
    let email = unique_email("rot");
    let (status, body) =
        sign_in(&server, PROVIDER, &KEY_A.sign(&provider.claims("sub-rot", &email, epoch_now()))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(provider.fetches(), 1);

    provider.publish(&[&KEY_B]);
    // The server fetches a provider's keys at most once per gap; after it, the new kid is looked up.
    tokio::time::sleep(Duration::from_secs(MIN_FETCH_GAP_SECS as u64 + 1)).await;
    let (status, again) =
        sign_in(&server, PROVIDER, &KEY_B.sign(&provider.claims("sub-rot", &email, epoch_now()))).await;
    assert_eq!(status, 200, "a token signed with the new key: {again}");
    assert_eq!(again["data"]["user"]["id"], body["data"]["user"]["id"]);
    assert_eq!(provider.fetches(), 2, "the unknown kid made the server fetch the JWKS again");
    server.stop().await;
}
