//! The keys that sign access tokens. The private key set lives in one secret
//! (`signing-keys`, readable only by the functions that issue tokens); its
//! public half is published in the table (`keys::public_jwks`) for every
//! function and for `GET /.well-known/jwks.json`. Rotation puts a new key
//! first and keeps the previous one, so tokens it signed verify until they expire.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Mutex;

use crate::clock::{Clock, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::ports::table::{Item, PK, SK};
use crate::ports::{ItemTable, SecretStore};
use crate::tokens::{Claims, PublicJwk};

/// The secret that holds the private key set.
pub const SECRET: &str = crate::config::secrets::SIGNING_KEYS;
const RELOAD_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct StoredKey {
    kid: String,
    /// PKCS#8 DER, base64.
    pkcs8: String,
    /// The Ed25519 public key, base64url (the JWK `x`).
    x: String,
    created_at: String,
}

/// The private key set: the first key signs, the others only verify.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeySet {
    keys: Vec<StoredKey>,
}

impl KeySet {
    pub fn generate(clock: &dyn Clock) -> ApiResult<Self> {
        Ok(Self { keys: vec![new_key(clock)?] })
    }

    /// A new signing key first; the previous current key stays to verify.
    pub fn rotated(mut self, clock: &dyn Clock) -> ApiResult<Self> {
        self.keys.truncate(1);
        self.keys.insert(0, new_key(clock)?);
        Ok(self)
    }

    pub fn jwks(&self) -> Vec<PublicJwk> {
        self.keys
            .iter()
            .map(|k| PublicJwk {
                kid: k.kid.clone(),
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: k.x.clone(),
                alg: "EdDSA".into(),
                use_: "sig".into(),
            })
            .collect()
    }

    pub fn current_kid(&self) -> Option<&str> {
        self.keys.first().map(|k| k.kid.as_str())
    }

    fn parse(text: &str) -> ApiResult<Self> {
        let set: KeySet =
            serde_json::from_str(text).map_err(|_| ApiError::internal("the signing-keys secret is malformed"))?;
        if set.keys.is_empty() {
            return Err(ApiError::internal("the signing-keys secret holds no key"));
        }
        Ok(set)
    }
}

fn new_key(clock: &dyn Clock) -> ApiResult<StoredKey> {
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| ApiError::internal("key generation"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| ApiError::internal("key generation"))?;
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let kid = format!("k{}", clock.now().unix_timestamp());
    Ok(StoredKey { kid, pkcs8: STANDARD.encode(pkcs8.as_ref()), x, created_at: rfc3339(clock.now()) })
}

/// Writes the public half of `set` where verifiers read it.
pub async fn publish(table: &dyn ItemTable, set: &KeySet) -> ApiResult<()> {
    let key = keys::public_jwks();
    let mut item = Item::new();
    item.insert(PK.into(), json!(key.pk));
    item.insert(SK.into(), json!(key.sk));
    item.insert("keys".into(), json!(set.jwks()));
    table.put(item, None).await?;
    Ok(())
}

/// Creates the key set when there is none (an embedded backend's first
/// start), and makes sure its public keys are published (a write only when
/// the published set differs, so a start that finds everything in place
/// only reads).
pub async fn ensure(secrets: &dyn SecretStore, table: &dyn ItemTable, clock: &dyn Clock) -> ApiResult<KeySet> {
    let set = match secrets.get(SECRET).await? {
        Some(text) => KeySet::parse(&text)?,
        None => {
            let set = KeySet::generate(clock)?;
            secrets.put(SECRET, &serde_json::to_string(&set).map_err(ApiError::internal)?).await?;
            set
        }
    };
    let published = table.get(&keys::public_jwks()).await?.and_then(|item| item.get("keys").cloned());
    if published != Some(json!(set.jwks())) {
        publish(table, &set).await?;
    }
    Ok(set)
}

/// Rotates the key set (a new signing key, the previous one kept) and publishes it.
pub async fn rotate(secrets: &dyn SecretStore, table: &dyn ItemTable, clock: &dyn Clock) -> ApiResult<KeySet> {
    let current = ensure(secrets, table, clock).await?;
    let set = current.rotated(clock)?;
    // Publish first: verifiers must know the new key before any token carries it.
    publish(table, &set).await?;
    secrets.put(SECRET, &serde_json::to_string(&set).map_err(ApiError::internal)?).await?;
    Ok(set)
}

struct Loaded {
    at: Instant,
    kid: String,
    key: EncodingKey,
}

/// Signs access tokens. Loads the key set on first use (not at cold start) and
/// reloads it every few minutes to pick up a rotation.
pub struct Signer {
    secrets: Arc<dyn SecretStore>,
    table: Arc<dyn ItemTable>,
    loaded: Mutex<Option<Loaded>>,
}

impl Signer {
    pub fn new(secrets: Arc<dyn SecretStore>, table: Arc<dyn ItemTable>) -> Self {
        Self { secrets, table, loaded: Mutex::new(None) }
    }

    pub async fn sign(&self, claims: &Claims) -> ApiResult<String> {
        let mut loaded = self.loaded.lock().await;
        if loaded.as_ref().is_none_or(|l| l.at.elapsed() > RELOAD_AFTER) {
            let text = self.secrets.get(SECRET).await?.ok_or_else(|| ApiError::internal("no signing-keys secret"))?;
            let set = KeySet::parse(&text)?;
            let first = &set.keys[0];
            let der = STANDARD.decode(&first.pkcs8).map_err(|_| ApiError::internal("bad signing key"))?;
            // Make sure verifiers can see this key before the first token carries it.
            let published = self.table.get(&keys::public_jwks()).await?;
            let known = published
                .and_then(|item| item.get("keys").cloned())
                .and_then(|v| serde_json::from_value::<Vec<PublicJwk>>(v).ok())
                .is_some_and(|jwks| jwks.iter().any(|k| k.kid == first.kid));
            if !known {
                publish(&*self.table, &set).await?;
            }
            *loaded = Some(Loaded { at: Instant::now(), kid: first.kid.clone(), key: EncodingKey::from_ed_der(&der) });
        }
        let loaded = loaded.as_ref().ok_or_else(|| ApiError::internal("signing key not loaded"))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(loaded.kid.clone());
        jsonwebtoken::encode(&header, claims, &loaded.key).map_err(ApiError::internal)
    }
}
