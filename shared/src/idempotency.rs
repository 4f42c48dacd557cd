//! `Idempotency-Key`: the first successful response to a key is kept for 24
//! hours and replayed for a retry with the same body; the same key with another
//! body is 409, and so is a retry while the first request is still running. An
//! error answer (4xx or 5xx) is not kept: the key is released, so a corrected
//! retry with the same key runs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::http::Reply;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Item, ItemTable, Key, PK, SK, TTL, Update};

pub const HEADER: &str = "idempotency-key";
const KEEP_SECS: i64 = 24 * 3600;
/// How long a claim holds before a crashed request's key may be taken over.
const LEASE_SECS: i64 = 120;

/// A claimed key: complete it with the response, or release it.
#[derive(Debug)]
pub struct Claim {
    key: Key,
}

pub enum Begin {
    /// First time: run the request, then `complete`.
    Claimed(Claim),
    /// Seen before: send this again.
    Replay(Reply),
}

/// Keys are 1..=255 visible ASCII characters (a UUID is typical).
pub fn validate(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
    }
    Ok(())
}

pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn begin(
    table: &dyn ItemTable,
    clock: &dyn Clock,
    subject: &str,
    route: &str,
    idem_key: &str,
    fingerprint: &str,
) -> ApiResult<Begin> {
    let key = keys::idempotency(subject, route, idem_key);
    let now = clock.epoch_seconds();
    let mut item = Item::new();
    item.insert(PK.into(), json!(key.pk));
    item.insert(SK.into(), json!(key.sk));
    item.insert("fingerprint".into(), json!(fingerprint));
    item.insert("state".into(), json!("pending"));
    item.insert("leaseUntil".into(), json!(now + LEASE_SECS));
    item.insert(TTL.into(), json!(now + KEEP_SECS));
    match table.put(item, Some(Cond::NotExists)).await {
        Ok(()) => return Ok(Begin::Claimed(Claim { key })),
        Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(e.into()),
    }
    let Some(existing) = table.get(&key).await? else {
        // It expired between the two calls: the caller may retry at once.
        return Err(in_progress());
    };
    if existing.get("fingerprint").and_then(Value::as_str) != Some(fingerprint) {
        return Err(ApiError::conflict(
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used with a different request",
        ));
    }
    if existing.get("state").and_then(Value::as_str) == Some("done") {
        return Ok(Begin::Replay(stored_reply(&existing)?));
    }
    // Still pending: take it over only when the first request's lease has run out.
    let lease = existing.get("leaseUntil").and_then(Value::as_i64).unwrap_or(0);
    if lease > now {
        return Err(in_progress());
    }
    let taken = table
        .update(
            &key,
            Update::new().set("leaseUntil", now + LEASE_SECS),
            Some(Cond::And(vec![Cond::eq("state", "pending"), Cond::Le("leaseUntil".into(), json!(lease))])),
        )
        .await;
    match taken {
        Ok(_) => Ok(Begin::Claimed(Claim { key })),
        Err(StoreError::ConditionFailed) => Err(in_progress()),
        Err(e) => Err(e.into()),
    }
}

/// Stores the response for replays (error answers release the key instead, so a retry runs again).
pub async fn complete(table: &dyn ItemTable, claim: Claim, reply: &Reply) -> ApiResult<()> {
    if reply.status.is_client_error() || reply.status.is_server_error() {
        return release(table, claim).await;
    }
    let update = Update::new()
        .set("state", "done")
        .set("status", reply.status.as_u16())
        .set("contentType", reply.content_type())
        .set("body", STANDARD.encode(reply.body_bytes()));
    match table.update(&claim.key, update, Some(Cond::Exists)).await {
        Ok(_) => Ok(()),
        // Too big to keep: the key then simply does not replay.
        Err(StoreError::Invalid(detail)) => {
            tracing::warn!(%detail, "idempotent response not stored");
            release(table, claim).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn release(table: &dyn ItemTable, claim: Claim) -> ApiResult<()> {
    table.delete(&claim.key, None).await?;
    Ok(())
}

fn stored_reply(item: &Item) -> ApiResult<Reply> {
    let status = item
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .ok_or_else(|| ApiError::internal("idempotency record without a status"))?;
    let content_type = item.get("contentType").and_then(Value::as_str).unwrap_or("application/json");
    let body = item
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or_else(|| ApiError::internal("idempotency record without a body"))?;
    let reply = if content_type == "application/json" {
        match serde_json::from_slice(&body) {
            Ok(value) => Reply::raw_json(status, value),
            Err(_) => Reply::bytes(status, content_type, Bytes::from(body)),
        }
    } else {
        Reply::bytes(status, content_type, Bytes::from(body))
    };
    Ok(reply.header(http::HeaderName::from_static("idempotent-replayed"), "true"))
}

fn in_progress() -> ApiError {
    ApiError::conflict("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still running").retry_after(1)
}
