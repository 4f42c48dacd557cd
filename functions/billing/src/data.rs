//! What the billing service stores of an account, for the data export and
//! the account deletion: its balance and its ledger (in the account's
//! partition). Payment records (`PAYMENT#…`) stay: they are the record of
//! money received, kept for the accounts.

use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::credits;
use whatif_shared::ports::table::{Index, Key, Query, SortKey, query_all};
use whatif_shared::routes::Access;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::{ApiResult, UserId, keys};

const ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite];

/// The most ledger entries one export or deletion reads.
const MAX_ENTRIES: usize = 100_000;

pub const OWNERS: &[DataOwner] = &[DataOwner {
    name: "credits",
    export: |c, u| Box::pin(export(c, u)),
    delete: |c, u| Box::pin(delete(c, u)),
    access: ACCESS,
}];

fn ledger_query(user: &UserId) -> Query {
    Query::partition(Index::Primary, keys::user_partition(user))
        .sk(SortKey::BeginsWith(keys::LEDGER_PREFIX.to_string()))
        .backward()
}

async fn export(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let user = UserId::from_trusted(&user_id);
    let balance = ctx.table.get(&keys::credits(&user)).await?.and_then(|i| i.get(credits::BALANCE).cloned());
    let ledger: Vec<Value> = query_all(ctx.table.as_ref(), ledger_query(&user), MAX_ENTRIES)
        .await?
        .into_iter()
        .map(|mut entry| {
            entry.retain(|attr, _| attr != "pk" && attr != "sk");
            Value::Object(entry)
        })
        .collect();
    Ok(vec![ExportFile::json("credits.json", &json!({"balance": balance, "ledger": ledger}))?])
}

async fn delete(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let user = UserId::from_trusted(&user_id);
    for entry in query_all(ctx.table.as_ref(), ledger_query(&user), MAX_ENTRIES).await? {
        if let Some(key) = Key::of(&entry) {
            ctx.table.delete(&key, None).await?;
        }
    }
    ctx.table.delete(&keys::credits(&user), None).await?;
    Ok(())
}
