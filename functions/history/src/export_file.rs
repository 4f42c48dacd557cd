//! `GET /api/scenarios/{id}/export?format=md|json|txt|pdf|epub`: the
//! scenario as a file, for its owner or, when public, anyone. Files up to
//! `WHATIF_EXPORT_INLINE_MAX_BYTES` (1 MiB; API Gateway and Lambda cap a
//! response at 6 MB, and base64 makes binary a third larger) come back as an
//! attachment; larger ones are written to the blob store and the answer is
//! `{url, expiresAt, fileName, contentType, bytes}` with a 15-minute link.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId};

use crate::export::{self, Format};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = ScenarioId::from(req.path_ulid("id")?);
    let format = match req.query_param("format") {
        None => Format::Md,
        Some(raw) => Format::parse(raw)
            .ok_or_else(|| ApiError::validation("format", "must be one of md, json, txt, pdf, epub"))?,
    };
    if let Some((name, _)) = req.query.iter().find(|(k, _)| k != "format") {
        return Err(ApiError::validation(name, "is not a parameter of this route"));
    }
    let caller = req.principal.as_ref().map(|p| p.id());
    let mut scenario = store::get_visible(&ctx, caller.as_ref(), &id).await?;
    if !scenario.is_owned_by(caller.as_ref()) {
        // A stranger's copy of a public scenario is the story, not the owner's notes.
        scenario = scenario.without_owner_notes();
    }
    let bytes = export::render(&scenario, format).map_err(ApiError::internal)?;
    let name = export::file_name(&scenario, format);
    if bytes.len() <= ctx.config.export_inline_max_bytes {
        let disposition = format!("attachment; filename=\"{name}\"");
        return Ok(Reply::bytes(http::StatusCode::OK, format.content_type(), bytes)
            .header(http::header::CONTENT_DISPOSITION, &disposition));
    }
    let size = bytes.len();
    // A stranger's file (without the owner's notes) is kept apart from the owner's.
    let copy = if scenario.is_owned_by(caller.as_ref()) { "" } else { "-public" };
    let key = format!("{}v{}{copy}/{name}", files_prefix(&scenario.owner_id, id.as_str()), scenario.version);
    ctx.blobs.put(&key, bytes.into(), format.content_type()).await?;
    let link = ctx.blobs.presign_get(&key, Duration::from_secs(900), Some(&name)).await?;
    Ok(Reply::ok(json!({
        "url": link.url,
        "expiresAt": rfc3339(link.expires_at),
        "fileName": name,
        "contentType": format.content_type(),
        "bytes": size,
    })))
}

/// Where a scenario's exported files live: under its owner's `exports/`
/// prefix, so the account's deletion takes them, and the purge removes them
/// with the scenario (in AWS a lifecycle rule also expires them after 7 days).
pub fn files_prefix(owner_id: &str, scenario_id: &str) -> String {
    whatif_shared::keys::scenario_exports(
        &whatif_shared::UserId::from_trusted(owner_id),
        &whatif_shared::ScenarioId::from_trusted(scenario_id),
    )
}
