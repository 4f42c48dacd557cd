//! The `tts` job: a narration. The text is split at sentence ends within the
//! provider's request limit, the pieces are synthesized (several at once),
//! joined by ffmpeg's concat demuxer, pitch shifted and encoded; the file is
//! put only once complete. Idempotent: a redelivered job that finds its file
//! recorded is done; one that finds a final state does nothing.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobError, JobKind, JobMessage};
use whatif_shared::ports::speech::split_text;

use crate::audio::{self, AudioFormat};
use crate::ffmpeg::{self, RunError};
use crate::job::{self, Progress};
use crate::narrate::synthesize_all;

pub const KIND: &str = "tts";

pub const JOB: JobKind = JobKind { name: KIND, handler: |c, m| Box::pin(run(c, m)), access: crate::JOB_ACCESS };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    text: String,
    voice: String,
    speaking_rate: f32,
    pitch: f32,
    format: AudioFormat,
}

pub async fn run(ctx: Arc<AppContext>, message: JobMessage) -> Result<(), JobError> {
    let Some((job, media)) = job::begin(&ctx, &message).await? else { return Ok(()) };
    let input: Input = serde_json::from_value(job.input.clone())
        .map_err(|e| JobError::Fail(format!("the job's input does not read: {e}")))?;
    let progress = Progress::default();
    let work = narrate(&ctx, &input, &progress);
    let outcome = tokio::select! {
        outcome = work => Some(outcome),
        () = job::cancelled(&ctx, &job.id) => None,
        () = job::report(&ctx, &job.id, progress.clone()) => None,
    };
    let Some(outcome) = outcome else {
        tracing::info!("narration cancelled; nothing was kept");
        return Ok(());
    };
    let (bytes, duration) = outcome?;
    let name = format!("audio.{}", input.format.extension());
    let files = vec![("audio", name.as_str(), bytes, input.format.content_type())];
    let size: u64 = files.iter().map(|f| f.2.len() as u64).sum();
    job::publish(&ctx, &media, files, duration).await?;
    let result = json!({"audioId": media.id, "durationSec": duration, "format": input.format, "sizeBytes": size});
    job::succeed(&ctx, &job.id, result).await
}

/// The narration's bytes and duration (seconds, as ffprobe reads the file).
async fn narrate(ctx: &AppContext, input: &Input, progress: &Progress) -> Result<(Vec<u8>, f64), JobError> {
    let pieces = split_text(&input.text, ctx.speech.max_request_bytes());
    if pieces.is_empty() {
        return Err(JobError::Fail("There is nothing to say".into()));
    }
    let pcm = synthesize_all(&ctx.speech, &input.voice, input.speaking_rate, &pieces, progress.stage(5, 80))
        .await
        .map_err(job::speech_error)?;
    let sample_rate = pcm.first().map_or(22_050, |p| p.sample_rate);
    let dir = tempfile::tempdir().map_err(|e| JobError::Retry(format!("no temp folder: {e}")))?;
    let list = audio::write_pieces(dir.path(), &pcm).map_err(|e| JobError::Retry(format!("writing pieces: {e}")))?;
    let out = dir.path().join(format!("narration.{}", input.format.extension()));
    let args = audio::join_args(&list, &out, input.format, input.pitch, sample_rate);
    let seconds: f64 = pcm.iter().map(|p| p.seconds()).sum();
    let encoding = ffmpeg::run(&args, progress.stage(85, 10), seconds, std::future::pending());
    match encoding.await {
        Ok(()) => {}
        Err(RunError::Failed(reason)) => return Err(JobError::Retry(reason)),
        Err(RunError::Cancelled) => return Err(JobError::Retry("the encoding stopped".into())),
    }
    let duration = ffmpeg::duration(&out).await.map_err(JobError::Retry)?;
    let bytes = tokio::fs::read(&out).await.map_err(|e| JobError::Retry(format!("reading the narration: {e}")))?;
    progress.set(97);
    Ok((bytes, (duration * 1000.0).round() / 1000.0))
}
