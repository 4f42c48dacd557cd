//! `POST /api/jobs/{jobId}/cancel`: stops the caller's queued or running job.
//! Its worker stops at its next check; what it finished stays (a batch keeps
//! the scenarios already written). 409 when the job has already finished;
//! 404 for anyone but its owner.

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobRecord, records};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let job_id = req.path_ulid("jobId")?.to_string();
    let principal = req.user()?;
    let owned = |job: Option<JobRecord>| job.filter(|j| j.user_id == principal.user_id);
    owned(records::get(&ctx, &job_id).await?).ok_or_else(|| ApiError::not_found("Job"))?;
    let cancelled = records::cancel(&ctx, &job_id).await?.is_some();
    let job = owned(records::get(&ctx, &job_id).await?).ok_or_else(|| ApiError::not_found("Job"))?;
    if !cancelled {
        let status = serde_json::to_value(job.status).unwrap_or_default();
        return Err(ApiError::conflict(
            "JOB_FINISHED",
            format!("The job has already finished; it is {}", status.as_str().unwrap_or("done")),
        ));
    }
    Ok(Reply::ok(job).message("Job cancelled"))
}
