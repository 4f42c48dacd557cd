//! `GET /api/profiles/leaderboard?by=reputation|scenarios|likes`: the top
//! public profiles. Each account has a row per board (`keys::board_row`)
//! whose index sort key is its score, so the top is one backward query of
//! the board's index partition, never a scan; accounts that are not public
//! are passed over. A row holds what its account's card shows, kept by the
//! transactions that change the profile (`authors::ops`), so the answer
//! waits for that one query.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::DEFAULT_LIMIT;
use whatif_shared::ports::table::{Index, Query};
use whatif_shared::social::authors::{self, Author};
use whatif_shared::social::stats::{self, Board};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

/// The most rows one answer reads, passing over private accounts.
const MAX_ROWS: usize = 1_000;

#[derive(Debug, Serialize, JsonSchema)]
pub struct Leaderboard {
    pub by: Board,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    pub rank: u32,
    pub user: Author,
    pub score: u64,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let by = match req.query_param("by") {
        None | Some("reputation") => Board::Reputation,
        Some("scenarios") => Board::Scenarios,
        Some("likes") => Board::Likes,
        Some(_) => return Err(ApiError::validation("by", "must be reputation, scenarios or likes")),
    };
    let limit = match req.query_param("limit") {
        None => DEFAULT_LIMIT as usize,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::validation("limit", "must be a whole number from 1 to 100"))?,
    };
    let mut query = Query::partition(Index::Gsi1, keys::board_partition(by.name())).backward().limit(limit * 2);
    let mut entries: Vec<Entry> = Vec::new();
    let mut read = 0;
    loop {
        let page = ctx.table.query(&query).await?;
        read += page.items.len();
        let rows: Vec<(UserId, u64, Option<&Value>)> = page
            .items
            .iter()
            .filter_map(|row| {
                let id = row.get("userId")?.as_str()?;
                let score = row.get("score").and_then(Value::as_u64).unwrap_or(0);
                Some((UserId::from_trusted(id), score, row.get(stats::CARD)))
            })
            .collect();
        // A row made before rows held cards has none: its account is read.
        let bare: Vec<UserId> = rows.iter().filter(|(_, _, card)| card.is_none()).map(|(id, ..)| id.clone()).collect();
        let mut cards = if bare.is_empty() { HashMap::new() } else { authors::cards(&ctx, &bare).await? };
        for (id, score, shown) in rows {
            if entries.len() == limit {
                break;
            }
            let card = match shown {
                Some(shown) => authors::from_shown(&ctx, id.as_str(), shown).await?,
                None => cards.remove(id.as_str()).unwrap_or_else(|| Author::anonymous(id.as_str())),
            };
            if card.is_public() {
                entries.push(Entry { rank: entries.len() as u32 + 1, user: card, score });
            }
        }
        match page.next {
            Some(next) if entries.len() < limit && read < MAX_ROWS => query = query.start(Some(next)),
            _ => break,
        }
    }
    Ok(Reply::ok(Leaderboard { by, entries }))
}
