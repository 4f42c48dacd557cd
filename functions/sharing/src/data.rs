//! What the sharing service stores of an account, for the data export and the
//! account deletion: its share links (with their daily counters), and the
//! reports it filed.

use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{Index, Item, Key, Query, query_all};
use whatif_shared::routes::Access;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::{ApiResult, UserId, keys};

use crate::mine;

const ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite];

pub const OWNERS: &[DataOwner] = &[
    DataOwner {
        name: "shares",
        export: |c, u| Box::pin(export_shares(c, u)),
        delete: |c, u| Box::pin(delete_shares(c, u)),
        access: ACCESS,
    },
    DataOwner {
        name: "reports",
        export: |c, u| Box::pin(export_reports(c, u)),
        delete: |c, u| Box::pin(delete_reports(c, u)),
        access: ACCESS,
    },
];

/// Every share as its owner sees it (no password hash), and the daily counters.
async fn export_shares(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let owner = UserId::from_trusted(&user_id);
    let shares: Vec<_> = mine::all_of(&ctx, &owner).await?.iter().map(|s| s.owner_view(&ctx)).collect();
    let days: Vec<Value> = all(&ctx, Query::partition(Index::Primary, keys::share_stats_partition(&owner)))
        .await?
        .into_iter()
        .map(|mut day| {
            day.retain(|attr, _| attr != "pk" && attr != "sk");
            Value::Object(day)
        })
        .collect();
    Ok(vec![ExportFile::json("shares.json", &json!({"shares": shares, "daily": days}))?])
}

async fn delete_shares(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let owner = UserId::from_trusted(&user_id);
    let shares = mine::all_of(&ctx, &owner).await?;
    for share in &shares {
        ctx.table.delete(&keys::share(&share.share_url), None).await?;
        ctx.table.delete(&keys::active_share(&share.scenario()), None).await?;
    }
    let days = all(&ctx, Query::partition(Index::Primary, keys::share_stats_partition(&owner))).await?;
    for day in days {
        if let Some(key) = Key::of(&day) {
            ctx.table.delete(&key, None).await?;
        }
    }
    tracing::info!(user_id = %user_id, shares = shares.len(), "deleted the account's shares");
    Ok(())
}

/// The reports the account filed (what, why, when, and their status).
async fn export_reports(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let reports: Vec<Value> = filed_by(&ctx, &user_id)
        .await?
        .into_iter()
        .map(|mut r| {
            r.retain(|attr, _| !matches!(attr.as_str(), "pk" | "sk" | "gsi2pk" | "gsi2sk" | "reporter"));
            Value::Object(r)
        })
        .collect();
    Ok(vec![ExportFile::json("reports.json", &json!(reports))?])
}

/// Removes the account's reports; the targets' tallies keep their counts
/// (they name nobody).
async fn delete_reports(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    for report in filed_by(&ctx, &user_id).await? {
        if let Some(key) = Key::of(&report) {
            ctx.table.delete(&key, None).await?;
        }
    }
    Ok(())
}

async fn filed_by(ctx: &AppContext, user_id: &str) -> ApiResult<Vec<Item>> {
    all(ctx, Query::partition(Index::Gsi2, keys::reports_of_reporter(&UserId::from_trusted(user_id)))).await
}

async fn all(ctx: &AppContext, query: Query) -> ApiResult<Vec<Item>> {
    Ok(query_all(ctx.table.as_ref(), query, usize::MAX).await?)
}
