//! `POST /api/notifications/read`: `{ids: [...]}` (1–100 notification ids)
//! or `{all: true}` marks the caller's notifications read. Marking moves a
//! notification from its unread key to its read key, in transactions of 50
//! (a delete conditional on it being unread, and the put), so a notification
//! is never both, and marking twice changes nothing.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Item, Key, PK, SK, TxOp};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

use crate::notifications;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// The notifications to mark read (1–100 ids); or `all`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100), inner(regex(pattern = whatif_shared::openapi::ULID_PATTERN)))]
    pub ids: Option<Vec<String>>,
    /// `true` marks every notification read.
    #[serde(default)]
    pub all: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadAnswer {
    /// How many were unread and are read now.
    pub marked: u64,
    pub unread_count: u64,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?.id();
    let body: ReadBody = req.json()?;
    let unread = notifications::unread_of(&ctx, &me).await?;
    let unread_before = unread.len() as u64;
    let chosen: Vec<Item> = match (&body.ids, body.all) {
        (Some(ids), None | Some(false)) => {
            if ids.is_empty() || ids.len() > 100 {
                return Err(ApiError::validation("ids", "must hold 1 to 100 ids"));
            }
            let mut wanted = Vec::new();
            for (i, raw) in ids.iter().enumerate() {
                let id = ulid_of(raw).ok_or_else(|| ApiError::validation(&format!("ids[{i}]"), "is not a valid id"))?;
                wanted.push(id);
            }
            let key_of = |id: &str| keys::notification(&me, false, id).sk;
            let wanted: Vec<String> = wanted.iter().map(|id| key_of(id)).collect();
            unread
                .into_iter()
                .filter(|i| i.get(SK).and_then(|v| v.as_str()).is_some_and(|sk| wanted.iter().any(|w| w == sk)))
                .collect()
        }
        (None, Some(true)) => unread,
        _ => return Err(ApiError::validation("ids", "send ids, or all: true")),
    };
    let mut marked = 0;
    for chunk in chosen.chunks(50) {
        marked += mark(&ctx, &me, chunk).await?;
    }
    let unread_count = unread_before.saturating_sub(marked);
    Ok(Reply::ok(ReadAnswer { marked, unread_count }))
}

/// A ULID in canonical form, or none.
fn ulid_of(raw: &str) -> Option<String> {
    UserId::parse(raw).ok().map(UserId::into_string)
}

/// Moves `items` (unread notifications of `user`) to their read keys; the
/// ones read meanwhile by another request are left to it.
async fn mark(ctx: &AppContext, user: &UserId, items: &[Item]) -> ApiResult<u64> {
    let mut pending: Vec<&Item> = items.iter().collect();
    for _ in 0..5 {
        let mut ops = Vec::new();
        for item in &pending {
            let Some(key) = Key::of(item) else { continue };
            let id = key.sk.trim_start_matches(keys::NOTE_UNREAD);
            let moved_to = keys::notification(user, true, id);
            let mut read = (*item).clone();
            read.insert(PK.into(), json!(moved_to.pk));
            read.insert(SK.into(), json!(moved_to.sk));
            ops.push(TxOp::Delete { key, cond: Some(Cond::Exists) });
            ops.push(TxOp::Put { item: read, cond: None });
        }
        if ops.is_empty() {
            return Ok(0);
        }
        match ctx.table.transact(ops).await {
            Ok(()) => return Ok(pending.len() as u64),
            // Some were read meanwhile: leave those out and try the rest.
            Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => {
                let gone: Vec<usize> = failed.iter().filter(|i| *i % 2 == 0).map(|i| i / 2).collect();
                pending = pending.into_iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, x)| x).collect();
            }
            Err(StoreError::TransactionCanceled { .. }) => whatif_shared::social::backoff(1).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "The notifications are being changed by other requests; try again").retry_after(1))
}
