//! `GET /api/credits`: the caller's balance, plan, monthly allowance, when it
//! renews, and the ledger, newest first (`limit`, `cursor`). Reading renews
//! the allowance when a new month has begun.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::credits::{self, Entry};
use whatif_shared::pagination::{PageRequest, encode_cursor};
use whatif_shared::ports::table::Item;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, keys};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditsAnswer {
    #[serde(flatten)]
    pub account: credits::Account,
    /// Newest first.
    pub ledger: Vec<Entry>,
    /// Pass as `cursor` for the next page (absent on the last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.id();
    let paging = PageRequest::from_request(&req)?;
    if req.query_param("page").is_some_and(|p| p != "1") {
        return Err(ApiError::validation("page", "the ledger pages by cursor: pass nextCursor as cursor"));
    }
    let after = match &paging.cursor {
        Some(cursor) => Some(
            cursor
                .get("after")
                .and_then(Value::as_str)
                .filter(|a| a.starts_with(keys::LEDGER_PREFIX) && a.len() <= 64)
                .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API gave out"))?
                .to_string(),
        ),
        None => None,
    };
    // The balance and the ledger at once. A new month's first read grants the
    // allowance, and the ledger is read again to show that grant.
    let limit = paging.limit as usize;
    let ((account, renewed), read) = futures::try_join!(
        credits::account_renewing(&ctx, &user),
        credits::ledger(&ctx, &user, limit, after.as_deref())
    )?;
    let (ledger, last) = if renewed { credits::ledger(&ctx, &user, limit, after.as_deref()).await? } else { read };
    let next_cursor = last.map(|sk| {
        let mut at = Item::new();
        at.insert("after".into(), json!(sk));
        encode_cursor(&at)
    });
    Ok(Reply::ok(CreditsAnswer { account, ledger, next_cursor }))
}
