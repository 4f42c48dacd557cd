//! What the two media job kinds share: starting a run (the record, the
//! account, the media item), reporting progress, noticing a cancel, and
//! putting finished files so that nothing half-made is ever visible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use whatif_shared::accounts;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobError, JobMessage, JobRecord, JobStatus, records};
use whatif_shared::ports::speech::SpeechError;
use whatif_shared::{ApiError, keys};

use crate::record::{self, Media};

/// How often a running job looks for its cancellation.
pub const CANCEL_CHECK: Duration = Duration::from_millis(500);
/// How often a running job writes its progress.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(1000);

pub fn retry(e: ApiError) -> JobError {
    JobError::Retry(e.message)
}

/// A speech failure: retried when the provider may recover, else the job fails.
pub fn speech_error(e: SpeechError) -> JobError {
    if e.is_transient() {
        JobError::Retry(e.to_string())
    } else {
        tracing::warn!(error = %e, "speech synthesis refused the text");
        JobError::Fail(match e {
            SpeechError::TextTooLong(_) => "The text was too long for the speech provider".into(),
            SpeechError::UnknownVoice(v) => format!("The voice {v} is no longer available"),
            _ => "The speech provider refused the text".into(),
        })
    }
}

/// The job and its media, marked running; `None` when there is nothing to do
/// (it reached a final state already, e.g. cancelled while queued).
pub async fn begin(ctx: &AppContext, message: &JobMessage) -> Result<Option<(JobRecord, Media)>, JobError> {
    let Some(job) = records::get(ctx, &message.job_id).await.map_err(retry)? else {
        return Err(JobError::Fail("the job record is gone".into()));
    };
    if job.status.is_final() {
        return Ok(None);
    }
    match accounts::store::get_user(ctx, &job.user_id).await.map_err(retry)? {
        Some(user) => {
            accounts::store::ensure_active(&user, ctx.clock.epoch_seconds()).map_err(|e| JobError::Fail(e.message))?
        }
        None => return Err(JobError::Fail("the account no longer exists".into())),
    }
    let Some(media) = record::get(ctx, &job.id).await.map_err(retry)? else {
        // Deleted before it ran.
        records::update(ctx, &job.id, JobStatus::Cancelled, job.progress, None, Some("Deleted by its owner"))
            .await
            .map_err(retry)?;
        return Ok(None);
    };
    records::update(ctx, &job.id, JobStatus::Running, 1, None, None).await.map_err(retry)?;
    Ok(Some((job, media)))
}

/// Resolves once the job's record says `cancelled` (or is gone), or its
/// media item is gone (deleted while it ran).
pub async fn cancelled(ctx: &AppContext, job_id: &str) {
    loop {
        tokio::time::sleep(CANCEL_CHECK).await;
        match records::get(ctx, job_id).await {
            Ok(None) => return,
            Ok(Some(job)) if job.status == JobStatus::Cancelled => return,
            Ok(Some(_)) => {}
            Err(e) => tracing::warn!(error = %e.message, "cannot read the job to check for cancellation"),
        }
        if let Ok(None) = record::get(ctx, job_id).await {
            return;
        }
    }
}

/// The progress a run has reached (0–100), written to its record by [`report`].
#[derive(Clone, Default)]
pub struct Progress(Arc<AtomicU8>);

impl Progress {
    pub fn set(&self, percent: u8) {
        self.0.fetch_max(percent.min(99), Ordering::Relaxed);
    }

    /// A stage of the work that moves the progress from `from` by up to `span`.
    pub fn stage(&self, from: u8, span: u8) -> Meter {
        Meter { progress: self.clone(), from, span }
    }

    pub fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A stage of a run's progress: a fraction of it done moves the whole.
#[derive(Clone)]
pub struct Meter {
    progress: Progress,
    from: u8,
    span: u8,
}

impl Meter {
    /// `done` of `total` of this stage is finished.
    pub fn at(&self, done: f64, total: f64) {
        let fraction = if total > 0.0 { (done / total).clamp(0.0, 1.0) } else { 0.0 };
        self.progress.set(self.from + (fraction * f64::from(self.span)) as u8);
    }
}

/// Writes `progress` to the job's record whenever it moved, every
/// [`PROGRESS_EVERY`], until dropped (run it beside the work in a `select!`).
pub async fn report(ctx: &AppContext, job_id: &str, progress: Progress) {
    let mut written = 0;
    loop {
        tokio::time::sleep(PROGRESS_EVERY).await;
        let now = progress.get();
        if now > written {
            match records::update(ctx, job_id, JobStatus::Running, now, None, None).await {
                Ok(()) => written = now,
                Err(e) => tracing::warn!(error = %e.message, "cannot record the job's progress"),
            }
        }
    }
}

/// Puts each `(role, name, bytes, content type)` under the media's folder,
/// then records them; any failure (or a media deleted meanwhile) removes
/// whatever was put, so a reader never finds a partial result.
pub async fn publish(
    ctx: &AppContext,
    media: &Media,
    files: Vec<(&str, &str, Vec<u8>, &str)>,
    duration_sec: f64,
) -> Result<serde_json::Map<String, Value>, JobError> {
    let folder = keys::media_files(&media.owner(), &media.id);
    let mut recorded = serde_json::Map::new();
    let mut size = 0u64;
    for (role, name, bytes, content_type) in files {
        let key = format!("{folder}{name}");
        size += bytes.len() as u64;
        if let Err(e) = ctx.blobs.put(&key, Bytes::from(bytes), content_type).await {
            remove_partial(ctx, media).await;
            return Err(JobError::Retry(e.to_string()));
        }
        recorded.insert(role.to_string(), Value::String(key));
    }
    // Cancelled (or deleted) while the files went up: take them down again.
    let still_wanted = match records::get(ctx, &media.id).await {
        Ok(Some(job)) => job.status == JobStatus::Running,
        Ok(None) => false,
        Err(e) => {
            remove_partial(ctx, media).await;
            return Err(JobError::Retry(e.message));
        }
    };
    if !still_wanted {
        remove_partial(ctx, media).await;
        return Err(JobError::Fail("cancelled".into()));
    }
    match record::set_files(ctx, &media.id, &recorded, duration_sec, size).await {
        Ok(true) => Ok(recorded),
        Ok(false) => {
            remove_partial(ctx, media).await;
            Err(JobError::Fail("the media was deleted while it was made".into()))
        }
        Err(e) => {
            remove_partial(ctx, media).await;
            Err(JobError::Retry(e.message))
        }
    }
}

/// Removes whatever files of `media` were put (a failed or abandoned run's).
async fn remove_partial(ctx: &AppContext, media: &Media) {
    if let Err(err) = ctx.blobs.delete_all(&folder_of(media)).await {
        tracing::error!(error = %err, "cannot remove a media's partial files");
    }
}

fn folder_of(media: &Media) -> String {
    keys::media_files(&media.owner(), &media.id)
}

/// Marks the job succeeded with `result`.
pub async fn succeed(ctx: &AppContext, job_id: &str, result: Value) -> Result<(), JobError> {
    records::update(ctx, job_id, JobStatus::Succeeded, 100, Some(result), None).await.map_err(retry)
}
