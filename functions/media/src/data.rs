//! What the media service stores of an account, for the data export (a list
//! of its videos and narrations; the files themselves are linked from the
//! API, not copied into the archive) and the account deletion (every file
//! under `media/<user>/` and every media item).

use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::routes::Access;
use whatif_shared::service::{DataOwner, ExportFile};
use whatif_shared::{ApiResult, UserId};

use crate::record;

pub const OWNERS: &[DataOwner] = &[DataOwner {
    name: "media",
    export: |c, u| Box::pin(export(c, u)),
    delete: |c, u| Box::pin(delete(c, u)),
    access: &[Access::TableRead, Access::TableWrite, Access::BlobRead(keys::MEDIA), Access::BlobWrite(keys::MEDIA)],
}];

async fn export(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let mut listed = Vec::new();
    for media in record::all_of(&ctx, &UserId::from_trusted(&user_id)).await? {
        let state = record::state(&ctx, &media).await?;
        let files: Vec<Value> = media.files.keys().map(|role| Value::String(role.clone())).collect();
        listed.push(json!({
            "id": media.id, "kind": media.kind, "title": media.title, "scenarioId": media.scenario_id,
            "options": media.options, "status": state.status, "durationSec": media.duration_sec,
            "sizeBytes": media.size_bytes, "files": files, "createdAt": media.created_at,
        }));
    }
    Ok(vec![ExportFile::json("media.json", &json!(listed))?])
}

async fn delete(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let owner = UserId::from_trusted(&user_id);
    let all = record::all_of(&ctx, &owner).await?;
    for media in &all {
        record::remove(&ctx, media).await?;
    }
    // Files whose item is gone already (a deletion that failed half way).
    ctx.blobs.delete_all(&keys::media_of(&owner)).await?;
    tracing::info!(user_id = %user_id, media = all.len(), "deleted the account's media");
    Ok(())
}
