//! `GET /api/users/export`: starts a job that zips everything the account
//! owns (JSON, plus its files); the job's result is a short-lived download.

use std::io::Write;
use std::sync::Arc;

use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records;
use whatif_shared::jobs::{JobError, JobMessage, JobStatus};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use whatif_shared::service::ExportFile;

pub const KIND: &str = "account-export";

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let principal = req.user()?;
    let job = records::enqueue(&ctx, KIND, &principal.user_id, json!({})).await?;
    Ok(Reply::accepted(json!({"jobId": job.id, "status": job.status, "pollUrl": format!("/api/jobs/{}", job.id)}))
        .message("Export started"))
}

/// The job: every owner's files into one zip under `exports/<user>/`.
pub async fn run(ctx: Arc<AppContext>, message: JobMessage) -> Result<(), JobError> {
    let retry = |e: ApiError| JobError::Retry(e.message);
    let Some(job) = records::get(&ctx, &message.job_id).await.map_err(retry)? else {
        return Err(JobError::Fail("the job record is gone".into()));
    };
    if job.status.is_final() {
        return Ok(());
    }
    records::update(&ctx, &job.id, JobStatus::Running, 10, None, None).await.map_err(retry)?;
    let mut files = Vec::new();
    let owners = whatif_shared::service::installed().map_err(retry)?.data_owners();
    for owner in owners {
        let mut owned = (owner.export)(ctx.clone(), job.user_id.clone()).await.map_err(retry)?;
        for file in &mut owned {
            file.name = format!("{}/{}", owner.name, file.name);
        }
        files.extend(owned);
    }
    let zip = zip_files(&files).map_err(|e| JobError::Retry(e.to_string()))?;
    let key = format!(
        "{}{}.zip",
        whatif_shared::keys::exports_of(&whatif_shared::UserId::from_trusted(&job.user_id)),
        job.id
    );
    let size = zip.len();
    ctx.blobs.put(&key, zip.into(), "application/zip").await.map_err(|e| retry(e.into()))?;
    let file =
        json!({"file": {"key": key, "name": "whatif-export.zip", "contentType": "application/zip", "bytes": size}});
    records::update(&ctx, &job.id, JobStatus::Succeeded, 100, Some(file), None).await.map_err(retry)?;
    Ok(())
}

fn zip_files(files: &[ExportFile]) -> std::io::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for file in files {
        writer.start_file(file.name.as_str(), options).map_err(std::io::Error::other)?;
        writer.write_all(&file.bytes)?;
    }
    Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
}
