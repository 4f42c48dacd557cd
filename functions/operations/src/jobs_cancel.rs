//! `POST /api/admin/jobs/{jobId}/cancel`: cancels anyone's queued or running
//! job, as its owner's cancel does (its worker stops at its next check, its
//! charge is refunded when it produced nothing), with an audit entry
//! (`job.cancel`) in the same transaction. 409 when it has already
//! finished; 404 when there is no such job.

use std::sync::Arc;

use serde_json::json;
use whatif_shared::audit::{self, Entry};
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records::{self, status_name};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::admin_job::{AdminJob, actor};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let job_id = req.path_ulid("jobId")?.to_string();
    let actor = actor(&ctx, &req).await?;
    AdminJob::read(&ctx, &job_id).await?.ok_or_else(|| ApiError::not_found("Job"))?;
    let entry = |job: &whatif_shared::jobs::JobRecord| -> ApiResult<Vec<_>> {
        let change =
            (json!({"status": status_name(job.status), "progress": job.progress}), json!({"status": "cancelled"}));
        let entry = Entry::new(actor.clone(), "job.cancel", "job", &job.id)
            .change(change.0, change.1)
            .note(Some(format!("{} job of {}", job.kind, job.user_id)))
            .request(&req.request_id);
        Ok(vec![audit::op(&ctx, entry)?])
    };
    let cancelled = records::cancel_with(&ctx, &job_id, "Cancelled by an admin", &entry).await?.is_some();
    let job = AdminJob::read(&ctx, &job_id).await?.ok_or_else(|| ApiError::not_found("Job"))?;
    if !cancelled {
        return Err(ApiError::conflict(
            "JOB_FINISHED",
            format!("The job has already finished; it is {}", status_name(job.status)),
        ));
    }
    tracing::info!(job_id, admin = %actor.id, "job cancelled by an admin");
    Ok(Reply::ok(job).message("Job cancelled"))
}
