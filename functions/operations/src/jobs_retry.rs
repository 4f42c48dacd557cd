//! `POST /api/admin/jobs/{jobId}/retry`: runs a failed job again from the
//! start (queued, progress 0, no error, no result; its message sent again).
//! A job whose charge was refunded when it failed is charged again in the
//! same transaction (402 when its owner cannot pay), so it is paid once in
//! total; one that was never refunded is not charged again. An audit entry
//! (`job.retry`) goes in the same transaction. 409 when the job is not
//! failed; 404 when there is no such job.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use whatif_shared::audit::{self, Entry};
use whatif_shared::context::AppContext;
use whatif_shared::jobs::JobRecord;
use whatif_shared::jobs::records::{self, Retried, status_name};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::admin_job::{AdminJob, actor};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryAnswer {
    pub job: AdminJob,
    /// Credits debited from the owner again (its charge had been refunded); 0 otherwise.
    pub charged: i64,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let job_id = req.path_ulid("jobId")?.to_string();
    let actor = actor(&ctx, &req).await?;
    let entry = |job: &JobRecord| -> ApiResult<Vec<_>> {
        let entry = Entry::new(actor.clone(), "job.retry", "job", &job.id)
            .change(
                json!({"status": status_name(job.status), "error": job.error, "progress": job.progress}),
                json!({"status": "queued", "progress": 0}),
            )
            .note(Some(format!("{} job of {}", job.kind, job.user_id)))
            .request(&req.request_id);
        Ok(vec![audit::op(&ctx, entry)?])
    };
    match records::retry(&ctx, &job_id, &entry).await? {
        Retried::Queued { job, charged } => {
            tracing::info!(job_id, admin = %actor.id, charged, "job retried by an admin");
            let job = AdminJob::read(&ctx, &job.id).await?.ok_or_else(|| ApiError::not_found("Job"))?;
            Ok(Reply::ok(RetryAnswer { job, charged }).message("Job queued again"))
        }
        Retried::NotFailed(status) => Err(ApiError::conflict(
            "JOB_NOT_FAILED",
            format!("Only a failed job can be retried; this one is {}", status_name(status)),
        )),
    }
}
