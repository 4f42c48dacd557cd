//! Access-token verification, used by every function: EdDSA JWTs whose public
//! keys (a JWKS with `kid`s) the auth functions publish in the table. The
//! algorithm is pinned; `iss`, `aud`, `exp`, `nbf`, `iat` are checked against
//! the injected clock; then one small status item tells a banned, deleted or
//! signed-out account at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::RwLock;

use crate::auth::{Plan, Principal, Role};
use crate::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::ItemTable;

pub const ISSUER: &str = "whatif";
pub const AUDIENCE: &str = "whatif-api";
/// The longest lifetime (`exp - iat`) of an access token: what the issuer
/// gives them (`accounts::sessions::ACCESS_TTL_SECS`), and no more.
pub const MAX_ACCESS_LIFETIME_SECS: i64 = 15 * 60;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: i64 = 30;
const KEYS_FRESH_FOR: Duration = Duration::from_secs(300);
const MIN_REFRESH_GAP: Duration = Duration::from_secs(10);

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub role: Role,
    #[serde(default)]
    pub plan: Plan,
    /// The account status when the token was issued.
    pub status: String,
    /// The session (refresh-token family) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// One published public key (an OKP JWK).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicJwk {
    pub kid: String,
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

struct KeyCache {
    loaded: Instant,
    keys: HashMap<String, DecodingKey>,
}

pub struct TokenVerifier {
    table: Arc<dyn ItemTable>,
    clock: Arc<dyn Clock>,
    cache: RwLock<Option<KeyCache>>,
}

impl TokenVerifier {
    pub fn new(table: Arc<dyn ItemTable>, clock: Arc<dyn Clock>) -> Self {
        Self { table, clock, cache: RwLock::new(None) }
    }

    async fn key(&self, kid: &str) -> ApiResult<DecodingKey> {
        if let Some(cache) = self.cache.read().await.as_ref()
            && cache.loaded.elapsed() < KEYS_FRESH_FOR
            && let Some(key) = cache.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let mut cache = self.cache.write().await;
        let stale = cache.as_ref().is_none_or(|c| c.loaded.elapsed() >= MIN_REFRESH_GAP);
        if stale {
            *cache = Some(KeyCache { loaded: Instant::now(), keys: self.load_keys().await? });
        }
        cache.as_ref().and_then(|c| c.keys.get(kid).cloned()).ok_or_else(invalid)
    }

    async fn load_keys(&self) -> ApiResult<HashMap<String, DecodingKey>> {
        let Some(item) = self.table.get(&keys::public_jwks()).await? else { return Ok(HashMap::new()) };
        let jwks: Vec<PublicJwk> = item
            .get("keys")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| ApiError::internal("the published JWKS item is malformed"))?;
        Ok(jwks
            .into_iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| DecodingKey::from_ed_components(&k.x).ok().map(|d| (k.kid, d)))
            .collect())
    }

    /// Checks a token's signature and claims (not the account's status).
    pub async fn verify(&self, token: &str) -> ApiResult<Claims> {
        let key = self.key(&kid_of(token)?).await?;
        self.verify_with(token, &key)
    }

    /// [`Self::verify`] without a call: None when the token's key is not
    /// loaded yet (the first request of a process), so verifying it would
    /// read the published keys.
    pub fn verify_loaded(&self, token: &str) -> Option<ApiResult<Claims>> {
        let kid = match kid_of(token) {
            Ok(kid) => kid,
            Err(e) => return Some(Err(e)),
        };
        let cache = self.cache.try_read().ok()?;
        let cache = cache.as_ref().filter(|c| c.loaded.elapsed() < KEYS_FRESH_FOR)?;
        let key = cache.keys.get(&kid)?;
        Some(self.verify_with(token, key))
    }

    /// What a token says, before its signature is checked: what a read can
    /// start with while the keys load ([`Self::verify`] must then pass
    /// before anything of it is answered or changed). 401 for a token that
    /// is no token of ours, or whose subject is no account id.
    pub fn peek(&self, token: &str) -> ApiResult<Claims> {
        kid_of(token)?;
        let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).map_err(|_| invalid())?;
        UserId::parse(&claims.sub).map_err(|_| invalid())?;
        Ok(claims)
    }

    fn verify_with(&self, token: &str, key: &DecodingKey) -> ApiResult<Claims> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        // Times are checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|_| invalid())?.claims;
        // Every access token belongs to a session (so signing out ends it) and
        // lives 15 minutes at most: a token without either was not made here.
        if claims.sid.as_deref().is_none_or(str::is_empty) || claims.exp - claims.iat > MAX_ACCESS_LIFETIME_SECS {
            return Err(invalid());
        }
        let now = self.clock.epoch_seconds();
        if claims.exp + LEEWAY_SECS <= now {
            return Err(ApiError::unauthorized("The access token has expired").with_code("TOKEN_EXPIRED"));
        }
        if claims.nbf - LEEWAY_SECS > now || claims.iat - LEEWAY_SECS > now {
            return Err(invalid());
        }
        Ok(claims)
    }
}

impl TokenVerifier {
    /// The caller of a token: its signature and claims ([`Self::verify`]),
    /// then its account's status ([`Self::admit`]). 401 for a bad, expired or
    /// revoked token, 403 for a suspended or banned account.
    pub async fn authenticate(&self, token: &str) -> ApiResult<Principal> {
        let claims = self.verify(token).await?;
        self.admit(&claims).await
    }

    /// The caller of verified `claims`, once their account's status allows
    /// it: one small read, the account's status, role and plan now, and the
    /// time before which its tokens are revoked.
    pub async fn admit(&self, claims: &Claims) -> ApiResult<Principal> {
        let status = self.table.get(&keys::account_status(&UserId::from_trusted(&claims.sub))).await?;
        let Some(status) = status else { return Err(ApiError::unauthorized("The account no longer exists")) };
        let suspension_over = status
            .get("suspendedUntil")
            .and_then(Value::as_i64)
            .is_some_and(|until| until <= self.clock.epoch_seconds());
        match status.get("status").and_then(Value::as_str) {
            Some("active") => {}
            Some("suspended") if suspension_over => {}
            Some("suspended") => {
                return Err(ApiError::forbidden("The account is suspended").with_code("ACCOUNT_SUSPENDED"));
            }
            Some("banned") => return Err(ApiError::forbidden("The account is banned").with_code("ACCOUNT_BANNED")),
            _ => return Err(ApiError::forbidden("The account is not active").with_code("ACCOUNT_INACTIVE")),
        }
        let revoked_before = status.get("tokensValidAfter").and_then(Value::as_i64).unwrap_or(0);
        let session_closed = claims.sid.as_ref().is_some_and(|sid| status.contains_key(&format!("revoked#{sid}")));
        if claims.iat < revoked_before || session_closed {
            return Err(ApiError::unauthorized("The session has ended, sign in again").with_code("TOKEN_REVOKED"));
        }
        let role = status.get("role").cloned().and_then(|r| serde_json::from_value(r).ok()).unwrap_or(claims.role);
        let plan = status.get("plan").cloned().and_then(|p| serde_json::from_value(p).ok()).unwrap_or(claims.plan);
        Ok(Principal { user_id: claims.sub.clone(), role, plan, session: claims.sid.clone() })
    }
}

impl Claims {
    /// The caller as the token says, before its account's status is read
    /// (which may have changed the role or plan since): what a read route's
    /// handler runs as alongside that read.
    pub fn principal(&self) -> Principal {
        Principal { user_id: self.sub.clone(), role: self.role, plan: self.plan, session: self.sid.clone() }
    }
}

/// The `kid` of an EdDSA token's header (the one algorithm we sign with).
fn kid_of(token: &str) -> ApiResult<String> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    if header.alg != Algorithm::EdDSA {
        return Err(invalid());
    }
    header.kid.ok_or_else(invalid)
}

fn invalid() -> ApiError {
    ApiError::unauthorized("The access token is not valid").with_code("TOKEN_INVALID")
}

/// `bytes` random bytes, URL-safe base64 (no padding).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}
