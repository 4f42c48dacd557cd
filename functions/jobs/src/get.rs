//! `GET /api/jobs/{jobId}`: a job's status and result, for its owner only
//! (404 for anyone else). A result file comes with a fresh short-lived URL.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let job_id = req.path_ulid("jobId")?.to_string();
    let principal = req.user()?;
    let mut job = records::get(&ctx, &job_id)
        .await?
        .filter(|j| j.user_id == principal.user_id)
        .ok_or_else(|| ApiError::not_found("Job"))?;
    if let Some(Value::Object(result)) = &mut job.result
        && let Some(file) = result.get_mut("file").and_then(Value::as_object_mut)
        && let (Some(key), Some(name)) =
            (file.get("key").and_then(Value::as_str), file.get("name").and_then(Value::as_str))
    {
        let url = ctx.blobs.presign_get(key, Duration::from_secs(900), Some(name)).await?;
        file.insert("downloadUrl".into(), url.url.into());
        file.insert("expiresAt".into(), rfc3339(url.expires_at).into());
        file.remove("key");
    }
    Ok(Reply::ok(job))
}
