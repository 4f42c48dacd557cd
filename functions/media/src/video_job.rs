//! The `video` job: a narrated title-card video of a scenario.
//!
//! 1. Cards: the title, then one per section (heading and body).
//! 2. Narration: every sentence of every card synthesized (several at once),
//!    laid end to end with a short pause between cards; each sentence's
//!    exact length times its subtitle cue, so the cues cover the narration.
//! 3. Render: one ffmpeg run, a still colour source at a low frame rate
//!    with each card's lines drawn (Noto Sans) while it is on, the WebVTT
//!    subtitles burned in (libass), the narration as the audio track (with
//!    an optional soft ambient pad under it), x264 `veryfast` +
//!    `stillimage`. Progress comes from ffmpeg's `-progress` output; a cancel
//!    kills ffmpeg at once.
//! 4. The video and its WebVTT file are put only when both are complete.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobError, JobKind, JobMessage};
use whatif_shared::ports::speech::{Pcm, sentences, split_text};
use whatif_shared::scenarios::store;
use whatif_shared::{ScenarioId, UserId};

use crate::cards::{self, Cue, Measure, Resolution, Style};
use crate::ffmpeg::{self, RunError};
use crate::job::{self, Progress};
use crate::narrate::{self, synthesize_all};
use crate::video_generate::Music;

pub const KIND: &str = "video";

pub const JOB: JobKind = JobKind { name: KIND, handler: |c, m| Box::pin(run(c, m)), access: crate::JOB_ACCESS };

/// Frames per second: the cards are still, so two frames a second show each
/// subtitle within half a second of its word, at half the CPU of four
/// (docs/media.md, "Figures").
pub const FPS: u32 = 2;
/// The silence between two cards.
pub const CARD_PAUSE_SECS: f64 = 0.6;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    scenario_id: String,
    voice: String,
    speaking_rate: f32,
    resolution: Resolution,
    style: Style,
    music: Music,
}

/// A card: what it shows and what is said over it.
struct Card {
    heading: String,
    body: String,
    title: bool,
    /// What the narration says, in pieces of at most the provider's request size.
    said: Vec<String>,
}

pub async fn run(ctx: Arc<AppContext>, message: JobMessage) -> Result<(), JobError> {
    let Some((job, media)) = job::begin(&ctx, &message).await? else { return Ok(()) };
    let input: Input = serde_json::from_value(job.input.clone())
        .map_err(|e| JobError::Fail(format!("the job's input does not read: {e}")))?;
    let owner = UserId::from_trusted(&job.user_id);
    let id = ScenarioId::from_trusted(&input.scenario_id);
    let scenario = match store::get_visible(&ctx, Some(&owner), &id).await {
        Ok(s) => s,
        Err(e) if e.status == http::StatusCode::NOT_FOUND => {
            return Err(JobError::Fail("The scenario is no longer available".into()));
        }
        Err(e) => return Err(job::retry(e)),
    };
    let cards = cards_of(&scenario, ctx.speech.max_request_bytes());
    let progress = Progress::default();
    let work = render(&ctx, &input, &cards, &progress, &job.id);
    let outcome = tokio::select! {
        outcome = work => Some(outcome),
        () = job::report(&ctx, &job.id, progress.clone()) => None,
    };
    let Some(outcome) = outcome else { return Ok(()) };
    let Some(rendered) = outcome? else {
        tracing::info!("render cancelled; ffmpeg was stopped and nothing was kept");
        return Ok(());
    };
    let files = vec![
        ("subtitles", "subtitles.vtt", rendered.vtt.into_bytes(), "text/vtt"),
        ("video", "video.mp4", rendered.video, "video/mp4"),
    ];
    job::publish(&ctx, &media, files, rendered.duration).await?;
    let (w, h) = input.resolution.size();
    let result = json!({
        "videoId": media.id, "durationSec": rendered.duration, "narrationSec": rendered.narration,
        "resolution": format!("{w}x{h}"), "cards": cards.len(), "cues": rendered.cues,
    });
    job::succeed(&ctx, &job.id, result).await
}

/// The title card, then one per section.
fn cards_of(scenario: &whatif_shared::scenarios::Scenario, max_bytes: usize) -> Vec<Card> {
    let card = |heading: &str, body: &str, title: bool| {
        let text = format!("{} {}", narrate::as_sentence(heading), narrate::speakable(body));
        let said = sentences(&text).iter().flat_map(|s| split_text(s, max_bytes)).collect();
        Card { heading: narrate::speakable(heading), body: narrate::speakable(body), title, said }
    };
    let mut cards = vec![card(&scenario.title, "", true)];
    cards.extend(scenario.sections.iter().map(|s| card(&s.heading, &s.body, false)));
    cards
}

fn failed(what: &str, e: impl std::fmt::Display) -> JobError {
    JobError::Retry(format!("{what}: {e}"))
}

struct Rendered {
    video: Vec<u8>,
    vtt: String,
    duration: f64,
    narration: f64,
    cues: usize,
}

/// The video, or None when the job was cancelled meanwhile.
async fn render(
    ctx: &AppContext,
    input: &Input,
    cards: &[Card],
    progress: &Progress,
    job_id: &str,
) -> Result<Option<Rendered>, JobError> {
    // Narration: every piece of every card, in order.
    let texts: Vec<String> = cards.iter().flat_map(|c| c.said.iter().cloned()).collect();
    let synthesis = synthesize_all(&ctx.speech, &input.voice, input.speaking_rate, &texts, progress.stage(2, 38));
    let pieces = tokio::select! {
        pieces = synthesis => pieces.map_err(job::speech_error)?,
        () = job::cancelled(ctx, job_id) => return Ok(None),
    };
    let sample_rate = pieces.first().map_or(22_050, |p| p.sample_rate);
    // The timeline: cues per piece, each card from its first word to the pause after it.
    let mut narration = Pcm { sample_rate, samples: Vec::new() };
    let mut cues: Vec<Cue> = Vec::new();
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let mut next = pieces.into_iter();
    for (i, card) in cards.iter().enumerate() {
        let start = narration.seconds();
        for text in &card.said {
            let Some(pcm) = next.next() else { break };
            let at = narration.seconds();
            cues.extend(cards::sentence_cues(text, at, pcm.seconds()));
            narration.samples.extend_from_slice(&pcm.samples);
        }
        if i + 1 < cards.len() {
            narration.samples.extend(Pcm::silence(sample_rate, CARD_PAUSE_SECS).samples);
        }
        spans.push((start, narration.seconds()));
    }
    let seconds = narration.seconds();
    if seconds <= 0.0 {
        return Err(JobError::Fail("The scenario has nothing to narrate".into()));
    }
    let vtt = cards::webvtt(&cues);
    let dir = tempfile::tempdir().map_err(|e| failed("no temp folder", e))?;
    let out = dir.path().join("video.mp4");
    let args = render_args(dir.path(), input, cards, &spans, &narration, &vtt, &out).map_err(|e| failed("setup", e))?;
    let encoding = ffmpeg::run(&args, progress.stage(40, 55), seconds, job::cancelled(ctx, job_id));
    match encoding.await {
        Ok(()) => {}
        Err(RunError::Cancelled) => return Ok(None),
        Err(RunError::Failed(reason)) => return Err(JobError::Retry(reason)),
    }
    let duration = ffmpeg::duration(&out).await.map_err(JobError::Retry)?;
    let video = tokio::fs::read(&out).await.map_err(|e| failed("reading the video", e))?;
    progress.set(97);
    Ok(Some(Rendered {
        video,
        vtt,
        duration: (duration * 1000.0).round() / 1000.0,
        narration: (seconds * 1000.0).round() / 1000.0,
        cues: cues.len(),
    }))
}

/// Writes the render's inputs into `dir` (narration, subtitles, font, one
/// text file per card line) and returns ffmpeg's arguments.
fn render_args(
    dir: &Path,
    input: &Input,
    cards: &[Card],
    spans: &[(f64, f64)],
    narration: &Pcm,
    vtt: &str,
    out: &Path,
) -> Result<Vec<String>, String> {
    let io = |e: std::io::Error| e.to_string();
    let (w, h) = input.resolution.size();
    let (background, heading_colour, body_colour) = input.style.colours();
    let seconds = narration.seconds();
    let font = dir.join(whatif_shared::fonts::NOTO_SANS_REGULAR_FILE);
    std::fs::write(&font, whatif_shared::fonts::NOTO_SANS_REGULAR).map_err(io)?;
    let audio = dir.join("narration.wav");
    std::fs::write(&audio, narration.to_wav()).map_err(io)?;
    let subtitles = dir.join("subtitles.vtt");
    std::fs::write(&subtitles, vtt).map_err(io)?;
    let measure = Measure::new()?;
    let mut video = "[0:v]format=yuv420p".to_string();
    let mut line_no = 0;
    for (card, (start, end)) in cards.iter().zip(spans) {
        for line in cards::layout(&measure, w, h, &card.heading, &card.body, card.title) {
            let file = dir.join(format!("line-{line_no:05}.txt"));
            line_no += 1;
            std::fs::write(&file, &line.text).map_err(io)?;
            let colour = if line.heading { heading_colour } else { body_colour };
            write!(
                video,
                ",drawtext=fontfile={}:textfile={}:expansion=none:fontsize={}:fontcolor={colour}:x={}:y={}:enable='between(t\\,{start:.3}\\,{end:.3})'",
                ffmpeg::filter_path(&font),
                ffmpeg::filter_path(&file),
                line.size,
                line.x,
                line.y,
            )
            .map_err(|e| e.to_string())?;
        }
    }
    // libass sizes are in a 288-line script space; portrait frames get a
    // smaller size so a line still holds a few words.
    let font_size = if h > w { 9 } else { 15 };
    write!(
        video,
        ",subtitles=filename={}:fontsdir={}:force_style='FontName=Noto Sans,FontSize={font_size},PrimaryColour=&H00FFFFFF,OutlineColour=&H99000000,BackColour=&H99000000,BorderStyle=3,Outline=2,Shadow=0,MarginV=14,Alignment=2'[v]",
        ffmpeg::filter_path(&subtitles),
        ffmpeg::filter_path(dir),
    )
    .map_err(|e| e.to_string())?;
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("color=c={background}:s={w}x{h}:r={FPS}:d={seconds:.3}"),
        "-i".into(),
        audio.display().to_string(),
    ];
    let mut graph = video;
    let audio_label = match input.music {
        Music::None => "1:a".to_string(),
        Music::Ambient => {
            // A quiet A-minor pad that breathes slowly, well under the voice.
            args.extend([
                "-f".into(),
                "lavfi".into(),
                "-i".into(),
                format!(
                    "aevalsrc='0.04*(0.6+0.4*sin(2*PI*0.1*t))*(sin(2*PI*220*t)+0.7*sin(2*PI*261.63*t)+0.6*sin(2*PI*329.63*t))':s={}:d={seconds:.3}",
                    narration.sample_rate
                ),
            ]);
            graph.push_str(";[1:a][2:a]amix=inputs=2:duration=first:normalize=0[a]");
            "[a]".to_string()
        }
    };
    args.extend(["-filter_complex".into(), graph, "-map".into(), "[v]".into(), "-map".into(), audio_label]);
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "stillimage",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            "-r",
            &FPS.to_string(),
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-ac",
            "1",
            "-movflags",
            "+faststart",
            "-t",
            &format!("{seconds:.3}"),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    args.push(out.display().to_string());
    Ok(args)
}
