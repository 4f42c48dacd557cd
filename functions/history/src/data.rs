//! What the history service stores of an account: its scenarios (with their
//! history entries, search items, purge markers and exported files), for the
//! data export and the account deletion.

use std::sync::Arc;

use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store as scenario_store;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::{ApiResult, UserId};

pub const OWNERS: &[DataOwner] = &[DataOwner {
    name: "scenarios",
    export: |c, u| Box::pin(export_scenarios(c, u)),
    delete: |c, u| Box::pin(delete_scenarios(c, u)),
    // A scenario's purge removes its media too (`media/`).
    access: whatif_shared::scenarios::store::PURGE_ACCESS,
}];

/// Every scenario, deleted ones included (with their `deletedAt`), as the API serves them.
async fn export_scenarios(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let scenarios = scenario_store::all_of(&ctx, &UserId::from_trusted(&user_id)).await?;
    Ok(vec![ExportFile::json("scenarios.json", &json!(scenarios))?])
}

async fn delete_scenarios(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let purged = scenario_store::purge_all_of(&ctx, &UserId::from_trusted(&user_id)).await?;
    tracing::info!(user_id = %user_id, purged, "deleted the account's scenarios");
    Ok(())
}
