//! Sign-in with an OpenID Connect ID token: the providers we trust (from the
//! environment) and a verifier that checks a provider's ID token and returns
//! who it names.
//!
//! The verifier pins the algorithms (RS256 and ES256 only), takes keys only
//! from the provider's configured JWKS URL (never from the token), caches
//! them per provider, and checks every claim against the injected clock.
//! Fetches of a JWKS are limited to one per [`MIN_FETCH_GAP_SECS`] per
//! provider, whatever asks for them, so a stream of tokens with made-up key
//! ids cannot make us hammer the provider.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::clock::Clock;

/// The name of the built-in Google provider.
pub const GOOGLE: &str = "google";
const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Enables Google: a comma-separated list of OAuth client ids.
pub const GOOGLE_CLIENT_IDS_VAR: &str = "WHATIF_OIDC_GOOGLE_CLIENT_IDS";
/// Other providers: `name|issuer|jwks_url|client_id1,client_id2` entries separated by `;`.
pub const PROVIDERS_VAR: &str = "WHATIF_OIDC_PROVIDERS";

/// The longest ID token we look at.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew tolerated on `exp`, `iat` and `nbf`.
const LEEWAY_SECS: i64 = 60;
/// The longest a JWKS is used before it is fetched again.
const MAX_KEYS_AGE_SECS: i64 = 3600;
/// At most one JWKS fetch per provider in this many seconds.
pub const MIN_FETCH_GAP_SECS: i64 = 30;
/// How long one JWKS fetch may take, connection and body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWKS document we read.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Redirects followed (same scheme, host and port only).
const MAX_REDIRECTS: usize = 3;
/// The smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One trusted OpenID provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// The name in the route (`/api/auth/oauth/{name}`), `[a-z0-9-]{1,32}`.
    pub name: String,
    /// Accepted values of `iss`.
    pub issuers: Vec<String>,
    /// Where the provider publishes its signing keys.
    pub jwks_url: String,
    /// Our OAuth client ids at this provider: accepted values of `aud` (and `azp`).
    pub client_ids: Vec<String>,
}

impl OidcProvider {
    /// Google, for the given client ids.
    fn google(client_ids: Vec<String>) -> Self {
        Self {
            name: GOOGLE.to_owned(),
            issuers: GOOGLE_ISSUERS.iter().map(|s| (*s).to_owned()).collect(),
            jwks_url: GOOGLE_JWKS_URL.to_owned(),
            client_ids,
        }
    }

    fn accepts_client(&self, client_id: &str) -> bool {
        self.client_ids.iter().any(|id| id == client_id)
    }
}

/// The configured providers. None configured is valid: every provider is then unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcProviders(Vec<OidcProvider>);

impl OidcProviders {
    /// Reads [`GOOGLE_CLIENT_IDS_VAR`] and [`PROVIDERS_VAR`]; an empty variable
    /// counts as unset. The error names the variable at fault.
    pub fn from_env(env: &HashMap<String, String>) -> Result<OidcProviders, String> {
        let mut providers = Vec::new();
        if let Some(ids) = non_empty(env, GOOGLE_CLIENT_IDS_VAR) {
            let ids = parse_client_ids(ids).map_err(|reason| invalid_var(GOOGLE_CLIENT_IDS_VAR, &reason))?;
            providers.push(OidcProvider::google(ids));
        }
        if let Some(list) = non_empty(env, PROVIDERS_VAR) {
            let entries = list.split(';').map(str::trim).filter(|entry| !entry.is_empty());
            for (index, entry) in entries.enumerate() {
                let provider = parse_provider_entry(entry)
                    .map_err(|reason| invalid_var(PROVIDERS_VAR, &format!("entry {}: {reason}", index + 1)))?;
                if providers.iter().any(|p: &OidcProvider| p.name == provider.name) {
                    let reason = format!("provider {} is configured twice", provider.name);
                    return Err(invalid_var(PROVIDERS_VAR, &reason));
                }
                providers.push(provider);
            }
        }
        Ok(OidcProviders(providers))
    }

    /// The provider called `name`, if configured.
    pub fn get(&self, name: &str) -> Option<&OidcProvider> {
        self.0.iter().find(|p| p.name == name)
    }

    /// Every configured provider, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &OidcProvider> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The variable's value, unless missing or blank.
fn non_empty<'a>(env: &'a HashMap<String, String>, var: &str) -> Option<&'a str> {
    env.get(var).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn invalid_var(var: &str, reason: &str) -> String {
    format!("environment variable {var} is invalid: {reason}")
}

/// One `name|issuer|jwks_url|client_ids` entry of [`PROVIDERS_VAR`].
fn parse_provider_entry(entry: &str) -> Result<OidcProvider, String> {
    let fields: Vec<&str> = entry.split('|').map(str::trim).collect();
    let [name, issuer, jwks_url, client_ids] = fields.as_slice() else {
        return Err("expected name|issuer|jwks_url|client_id1,client_id2".to_owned());
    };
    if !valid_name(name) {
        return Err(format!("provider name {name:?} must be 1 to 32 of a-z, 0-9 and -"));
    }
    check_http_url(issuer).map_err(|reason| format!("issuer {reason}"))?;
    check_http_url(jwks_url).map_err(|reason| format!("JWKS URL {reason}"))?;
    Ok(OidcProvider {
        name: (*name).to_owned(),
        issuers: vec![(*issuer).to_owned()],
        jwks_url: (*jwks_url).to_owned(),
        client_ids: parse_client_ids(client_ids)?,
    })
}

/// `[a-z0-9-]{1,32}`.
fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An absolute http(s) URL with a host.
fn check_http_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{value:?} must be an http or https URL"));
    }
    Ok(())
}

/// A comma-separated list of at least one client id.
fn parse_client_ids(list: &str) -> Result<Vec<String>, String> {
    let ids: Vec<String> = list.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect();
    if ids.is_empty() {
        return Err("at least one client id is needed".to_owned());
    }
    if let Some(bad) = ids.iter().find(|id| id.len() > 256 || id.chars().any(|c| c.is_whitespace() || c.is_control())) {
        return Err(format!("client id {bad:?} is not valid"));
    }
    Ok(ids)
}

/// Who a verified ID token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's name in our configuration.
    pub provider: String,
    /// The provider's stable id for the user (`sub`).
    pub subject: String,
    /// The email address, its domain lower-cased.
    pub email: String,
    /// Always true: unverified addresses are refused.
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The provider is not configured.
    #[error("unknown sign-in provider")]
    UnknownProvider,
    /// The token is not acceptable; the reason is a short fixed phrase, safe to show a client.
    #[error("the ID token is not valid: {0}")]
    InvalidToken(&'static str),
    /// The token is good but the provider has not verified the email address.
    #[error("the email address is not verified by the provider")]
    EmailNotVerified,
    /// The provider's keys could not be fetched; the detail is for logs, not for clients.
    #[error("the sign-in provider is unavailable: {0}")]
    ProviderUnavailable(String),
}

/// A public key from a JWKS, with the one algorithm it may verify.
#[derive(Clone)]
struct SigningKey {
    alg: Algorithm,
    key: DecodingKey,
}

/// A fetched JWKS.
struct KeySet {
    keys: HashMap<String, SigningKey>,
    fetched_at: i64,
    fresh_until: i64,
}

impl KeySet {
    fn is_fresh(&self, now: i64) -> bool {
        self.fetched_at <= now && now < self.fresh_until
    }
}

/// One provider's keys and when they were last fetched.
#[derive(Default)]
struct KeyCache {
    set: Option<KeySet>,
    /// The start of the last fetch, successful or not.
    last_fetch: Option<i64>,
}

impl KeyCache {
    /// The key, if the cached set is fresh and holds it.
    fn fresh_key(&self, kid: &str, now: i64) -> Option<SigningKey> {
        self.set.as_ref().filter(|set| set.is_fresh(now)).and_then(|set| set.keys.get(kid).cloned())
    }

    /// The key, if any cached set (fresh or stale) holds it.
    fn known_key(&self, kid: &str) -> Option<SigningKey> {
        self.set.as_ref().and_then(|set| set.keys.get(kid).cloned())
    }

    /// Whether the fetch gap has passed (or the clock went back).
    fn may_fetch(&self, now: i64) -> bool {
        self.last_fetch.is_none_or(|last| now < last || now.saturating_sub(last) >= MIN_FETCH_GAP_SECS)
    }
}

/// What happened when the keys were needed and not fresh.
enum Refresh {
    Fetched,
    Throttled,
    Failed(OidcError),
}

/// Verifies ID tokens of the configured providers. Share one per process: it caches the keys.
pub struct OidcVerifier {
    providers: OidcProviders,
    clock: Arc<dyn Clock>,
    /// The client for JWKS fetches, or why it could not be built.
    http: Result<reqwest::Client, String>,
    caches: HashMap<String, Mutex<KeyCache>>,
}

impl OidcVerifier {
    /// A verifier for `providers`, with a 5 s limit on JWKS fetches.
    pub fn new(providers: OidcProviders, clock: Arc<dyn Clock>) -> Self {
        let caches = providers.iter().map(|p| (p.name.clone(), Mutex::new(KeyCache::default()))).collect();
        Self { providers, clock, http: http_client(DEFAULT_TIMEOUT), caches }
    }

    /// The same verifier with another limit on JWKS fetches.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http_client(timeout);
        self
    }

    /// Checks `id_token` from `provider` and returns the identity it names.
    pub async fn verify(&self, provider: &str, id_token: &str) -> Result<VerifiedIdentity, OidcError> {
        let provider = self.providers.get(provider).ok_or(OidcError::UnknownProvider)?;
        let header = parse_header(id_token)?;
        let key = self.signing_key(provider, &header.kid).await?;
        if key.alg != header.alg {
            return Err(OidcError::InvalidToken("key does not match algorithm"));
        }
        let claims = verify_signature(id_token, &key)?;
        check_issuer(&claims, provider)?;
        check_audience(&claims, provider)?;
        check_times(&claims, self.clock.epoch_seconds())?;
        identity(provider, &claims)
    }

    /// The provider's key `kid`: from the cache while fresh, else after one
    /// (rate-limited) fetch. Known keys keep serving when a refresh fails.
    async fn signing_key(&self, provider: &OidcProvider, kid: &str) -> Result<SigningKey, OidcError> {
        let cache = self.caches.get(&provider.name).ok_or(OidcError::UnknownProvider)?;
        let mut cache = cache.lock().await;
        let now = self.clock.epoch_seconds();
        if let Some(key) = cache.fresh_key(kid, now) {
            return Ok(key);
        }
        let refresh = self.refresh(provider, &mut cache, now).await;
        match (cache.known_key(kid), refresh) {
            (Some(key), _) => Ok(key),
            (None, Refresh::Failed(error)) => Err(error),
            (None, Refresh::Throttled) if cache.set.is_none() => Err(OidcError::ProviderUnavailable(
                "the last JWKS fetch failed; the next try is due shortly".to_owned(),
            )),
            (None, _) => Err(OidcError::InvalidToken("unknown signing key")),
        }
    }

    /// Fetches the provider's JWKS into `cache`, unless one was fetched within the gap.
    async fn refresh(&self, provider: &OidcProvider, cache: &mut KeyCache, now: i64) -> Refresh {
        if !cache.may_fetch(now) {
            return Refresh::Throttled;
        }
        cache.last_fetch = Some(now);
        match self.fetch_keys(&provider.jwks_url, now).await {
            Ok(set) => {
                tracing::info!(provider = %provider.name, keys = set.keys.len(), "fetched the OIDC signing keys");
                cache.set = Some(set);
                Refresh::Fetched
            }
            Err(error) => {
                tracing::warn!(provider = %provider.name, %error, "could not fetch the OIDC signing keys");
                Refresh::Failed(error)
            }
        }
    }

    /// Downloads and parses a JWKS; any failure is [`OidcError::ProviderUnavailable`].
    async fn fetch_keys(&self, url: &str, now: i64) -> Result<KeySet, OidcError> {
        let http = self.http.as_ref().map_err(|e| OidcError::ProviderUnavailable(e.clone()))?;
        let response = http
            .get(url)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(format!("the JWKS request failed: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!("the JWKS answered {status}")));
        }
        let lifetime = cache_lifetime(response.headers());
        let body = read_limited(response, MAX_JWKS_BYTES).await?;
        let keys = parse_jwks(&body)?;
        Ok(KeySet { keys, fetched_at: now, fresh_until: now.saturating_add(lifetime) })
    }
}

fn unavailable(detail: String) -> OidcError {
    OidcError::ProviderUnavailable(detail)
}

/// An HTTP client with a total time limit that follows redirects only on the same origin.
fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(same_origin_redirects())
        .build()
        .map_err(|e| format!("the HTTP client could not be built: {e}"))
}

/// Follows up to [`MAX_REDIRECTS`] redirects that keep the scheme, host and port.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let next = attempt.url();
        let same_origin = attempt.previous().first().is_some_and(|first| {
            first.scheme() == next.scheme()
                && first.host_str() == next.host_str()
                && first.port_or_known_default() == next.port_or_known_default()
        });
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS { attempt.follow() } else { attempt.stop() }
    })
}

/// Seconds the JWKS may be cached: `Cache-Control: max-age`, at most an hour;
/// `no-cache` and `no-store` mean none (the fetch gap still applies).
fn cache_lifetime(headers: &HeaderMap) -> i64 {
    let Some(value) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) else { return MAX_KEYS_AGE_SECS };
    let mut lifetime = MAX_KEYS_AGE_SECS;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-cache" || directive == "no-store" {
            return 0;
        }
        if let Some(secs) = directive.strip_prefix("max-age=").and_then(|s| s.trim_matches('"').parse::<i64>().ok()) {
            lifetime = lifetime.min(secs.max(0));
        }
    }
    lifetime
}

/// The response body, refused when larger than `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, OidcError> {
    let too_large = || unavailable(format!("the JWKS is larger than {limit} bytes"));
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unavailable(format!("the JWKS read failed: {e}")))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JWKS document as published.
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

/// The fields of a JWK we use.
#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// The usable signing keys of a JWKS, by `kid`. Keys of other types or
/// algorithms are skipped; a document with none usable is an error.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, SigningKey>, OidcError> {
    let set: JwkSet =
        serde_json::from_slice(body).map_err(|e| unavailable(format!("the JWKS is not a valid document: {e}")))?;
    let mut keys = HashMap::new();
    for jwk in set.keys.into_iter().filter_map(|value| serde_json::from_value::<Jwk>(value).ok()) {
        if let Some((kid, key)) = signing_key_from_jwk(&jwk) {
            keys.entry(kid).or_insert(key);
        }
    }
    if keys.is_empty() {
        return Err(unavailable("the JWKS holds no usable RS256 or ES256 key".to_owned()));
    }
    Ok(keys)
}

/// A JWK as an RS256 or ES256 verification key, if it is one.
fn signing_key_from_jwk(jwk: &Jwk) -> Option<(String, SigningKey)> {
    let kid = jwk.kid.clone().filter(|kid| !kid.is_empty())?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => Algorithm::RS256,
        ("EC", Some("P-256")) => Algorithm::ES256,
        _ => return None,
    };
    if jwk.alg.as_deref().is_some_and(|declared| declared != alg_name(alg)) {
        return None;
    }
    let key = match alg {
        Algorithm::RS256 => rsa_key(jwk.n.as_deref()?, jwk.e.as_deref()?)?,
        _ => p256_key(jwk.x.as_deref()?, jwk.y.as_deref()?)?,
    };
    Some((kid, SigningKey { alg, key }))
}

/// An RSA key of at least 2048 bits.
fn rsa_key(n: &str, e: &str) -> Option<DecodingKey> {
    let modulus = URL_SAFE_NO_PAD.decode(n).ok()?;
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    if significant < MIN_RSA_MODULUS_BYTES {
        return None;
    }
    DecodingKey::from_rsa_components(n, e).ok()
}

/// A P-256 key from its 32-byte coordinates.
fn p256_key(x: &str, y: &str) -> Option<DecodingKey> {
    let coordinate_ok = |c: &str| URL_SAFE_NO_PAD.decode(c).is_ok_and(|bytes| bytes.len() == 32);
    if !coordinate_ok(x) || !coordinate_ok(y) {
        return None;
    }
    DecodingKey::from_ec_components(x, y).ok()
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        _ => "RS256",
    }
}

/// The parts of a JOSE header we act on.
struct TokenHeader {
    alg: Algorithm,
    kid: String,
}

/// Checks the token's size and shape and reads its header: the algorithm
/// must be RS256 or ES256, a `kid` is required, `crit` is refused.
fn parse_header(token: &str) -> Result<TokenHeader, OidcError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OidcError::InvalidToken("too long"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else { return Err(OidcError::InvalidToken("malformed")) };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(OidcError::InvalidToken("malformed"));
    }
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(OidcError::InvalidToken("malformed"))?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        _ => return Err(OidcError::InvalidToken("unsupported algorithm")),
    };
    if header.get("crit").is_some() {
        return Err(OidcError::InvalidToken("unsupported critical header"));
    }
    let kid = header.get("kid").and_then(Value::as_str).filter(|kid| !kid.is_empty() && kid.len() <= 256);
    let kid = kid.ok_or(OidcError::InvalidToken("missing key id"))?;
    Ok(TokenHeader { alg, kid: kid.to_owned() })
}

/// The claims object, once the signature checks out. Claim checks are ours
/// (jsonwebtoken's time checks use the system clock), so its validation is
/// reduced to the algorithm and the signature.
fn verify_signature(token: &str, key: &SigningKey) -> Result<Map<String, Value>, OidcError> {
    let mut validation = Validation::new(key.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<Value>(token, &key.key, &validation) {
        Ok(data) => match data.claims {
            Value::Object(claims) => Ok(claims),
            _ => Err(OidcError::InvalidToken("malformed")),
        },
        Err(error) => Err(match error.kind() {
            ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
                OidcError::InvalidToken("malformed")
            }
            _ => OidcError::InvalidToken("bad signature"),
        }),
    }
}

/// A string claim.
fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// A NumericDate claim, in whole seconds.
fn time_claim(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
}

/// `iss` is one of the provider's issuers.
fn check_issuer(claims: &Map<String, Value>, provider: &OidcProvider) -> Result<(), OidcError> {
    let iss = string_claim(claims, "iss").ok_or(OidcError::InvalidToken("missing issuer"))?;
    if !provider.issuers.iter().any(|accepted| accepted == iss) {
        return Err(OidcError::InvalidToken("wrong issuer"));
    }
    Ok(())
}

/// `aud` (a string, or an array) names one of our client ids; with an
/// array, `azp` must be one of them too when present.
fn check_audience(claims: &Map<String, Value>, provider: &OidcProvider) -> Result<(), OidcError> {
    match claims.get("aud") {
        Some(Value::String(aud)) if provider.accepts_client(aud) => Ok(()),
        Some(Value::Array(auds)) if auds.iter().filter_map(Value::as_str).any(|a| provider.accepts_client(a)) => {
            match claims.get("azp") {
                None => Ok(()),
                Some(azp) if azp.as_str().is_some_and(|a| provider.accepts_client(a)) => Ok(()),
                Some(_) => Err(OidcError::InvalidToken("wrong authorized party")),
            }
        }
        None => Err(OidcError::InvalidToken("missing audience")),
        Some(_) => Err(OidcError::InvalidToken("wrong audience")),
    }
}

/// `exp` has not passed, `iat` is not in the future, `nbf` (if any) has come; all with leeway.
fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), OidcError> {
    let exp = time_claim(claims, "exp").ok_or(OidcError::InvalidToken("missing expiry"))?;
    let iat = time_claim(claims, "iat").ok_or(OidcError::InvalidToken("missing issue time"))?;
    if exp <= now.saturating_sub(LEEWAY_SECS) {
        return Err(OidcError::InvalidToken("expired"));
    }
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(OidcError::InvalidToken("issued in the future"));
    }
    match claims.get("nbf") {
        None => Ok(()),
        Some(_) => match time_claim(claims, "nbf") {
            Some(nbf) if nbf <= now.saturating_add(LEEWAY_SECS) => Ok(()),
            Some(_) => Err(OidcError::InvalidToken("not yet valid")),
            None => Err(OidcError::InvalidToken("malformed")),
        },
    }
}

/// The identity: `sub` and `email` are required, and the email must be verified.
fn identity(provider: &OidcProvider, claims: &Map<String, Value>) -> Result<VerifiedIdentity, OidcError> {
    let subject = string_claim(claims, "sub").filter(|sub| !sub.is_empty() && sub.len() <= 255);
    let subject = subject.ok_or(OidcError::InvalidToken("missing subject"))?;
    let email = string_claim(claims, "email").ok_or(OidcError::InvalidToken("missing email"))?;
    let email = normalize_email(email).ok_or(OidcError::InvalidToken("invalid email"))?;
    if !email_verified(claims) {
        return Err(OidcError::EmailNotVerified);
    }
    let optional = |name: &str| string_claim(claims, name).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(VerifiedIdentity {
        provider: provider.name.clone(),
        subject: subject.to_owned(),
        email,
        email_verified: true,
        name: optional("name"),
        given_name: optional("given_name"),
        family_name: optional("family_name"),
        picture: optional("picture"),
    })
}

/// `email_verified` is `true` or `"true"`.
fn email_verified(claims: &Map<String, Value>) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(verified)) => *verified,
        Some(Value::String(verified)) => verified == "true",
        _ => false,
    }
}

/// `local@domain` with the domain lower-cased; `None` when it is not an address.
fn normalize_email(email: &str) -> Option<String> {
    if email.len() > 320 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lifetime_takes_the_shorter_of_max_age_and_an_hour() {
        let mut headers = HeaderMap::new();
        assert_eq!(cache_lifetime(&headers), 3600);
        headers.insert(CACHE_CONTROL, "public, max-age=120, must-revalidate".parse().unwrap());
        assert_eq!(cache_lifetime(&headers), 120);
        headers.insert(CACHE_CONTROL, "public, max-age=86400".parse().unwrap());
        assert_eq!(cache_lifetime(&headers), 3600);
        headers.insert(CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(cache_lifetime(&headers), 0);
        headers.insert(CACHE_CONTROL, "s-maxage=10".parse().unwrap());
        assert_eq!(cache_lifetime(&headers), 3600);
    }

    #[test]
    fn emails_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(normalize_email("Ada.L@Example.COM").as_deref(), Some("Ada.L@example.com"));
        assert_eq!(normalize_email("no-at-sign"), None);
        assert_eq!(normalize_email("@example.com"), None);
        assert_eq!(normalize_email("a b@example.com"), None);
    }

    #[test]
    fn headers_pin_the_algorithm_and_need_a_kid() {
        let encode = |header: &str| format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header));
        assert!(parse_header(&encode(r#"{"alg":"RS256","kid":"k"}"#)).is_ok());
        for (header, reason) in [
            (r#"{"alg":"none","kid":"k"}"#, "unsupported algorithm"),
            (r#"{"alg":"HS256","kid":"k"}"#, "unsupported algorithm"),
            (r#"{"alg":"RS256"}"#, "missing key id"),
            (r#"{"alg":"ES256","kid":"k","crit":["b64"]}"#, "unsupported critical header"),
        ] {
            assert_eq!(parse_header(&encode(header)).err(), Some(OidcError::InvalidToken(reason)), "{header}");
        }
        assert_eq!(parse_header("a.b").err(), Some(OidcError::InvalidToken("malformed")));
    }
}
