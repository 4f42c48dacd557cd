//! Video and speech (API.md, "Video and speech"): narrations of text or of a
//! scenario, and narrated title-card videos of a scenario with burned-in
//! subtitles. Each row below is one Lambda function; its handler is the
//! module of the same name. The work is done by two job kinds on the job
//! queue (`tts`, `video`; run by `jobs-worker`, which has the ffmpeg layer).
//! Speech comes through the `SpeechSynthesizer` port: Amazon Polly in AWS,
//! espeak-ng locally. docs/media.md explains the design and its costs.

pub mod audio;
pub mod cards;
pub mod data;
pub mod ffmpeg;
pub mod job;
pub mod narrate;
pub mod record;
pub mod tts_estimate;
pub mod tts_generate;
pub mod tts_get;
pub mod tts_job;
pub mod tts_voices;
pub mod video_delete;
pub mod video_download;
pub mod video_generate;
pub mod video_job;
pub mod video_my;
pub mod video_providers;
pub mod video_status;

use std::time::Duration;

use whatif_shared::ApiError;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::keys;
use whatif_shared::ports::speech::SpeechError;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, LIMIT, OUT_OF_CREDITS, PAGE, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::Service;

/// How long a download link lives.
pub const DOWNLOAD_TTL: Duration = Duration::from_secs(15 * 60);

/// What the media jobs touch: the items, the files, the speech provider.
pub const JOB_ACCESS: &[Access] = &[
    Access::TableRead,
    Access::TableWrite,
    Access::BlobRead(keys::MEDIA),
    Access::BlobWrite(keys::MEDIA),
    Access::Speech,
];

const START: &[Access] = &[Access::TableRead, Access::TableWrite, Access::QueueSend, Access::Speech];
const READ: &[Access] = &[Access::TableRead];
const READ_FILES: &[Access] = &[Access::TableRead, Access::BlobRead(keys::MEDIA)];
const DELETE_FILES: &[Access] =
    &[Access::TableRead, Access::TableWrite, Access::BlobRead(keys::MEDIA), Access::BlobWrite(keys::MEDIA)];

/// A download name from a title: its letters and digits, dashed, at most 80
/// characters before the extension (a blob store refuses names over 200).
pub fn download_name(title: &str, extension: &str) -> String {
    let slug: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    let slug = slug.get(..80).unwrap_or(&slug).trim_end_matches('-');
    let slug = if slug.is_empty() { "whatif" } else { slug };
    format!("{slug}.{extension}")
}

/// The speech provider failed while a request was being checked.
pub fn speech_unavailable(e: SpeechError) -> ApiError {
    tracing::error!(error = %e, "the speech provider failed");
    ApiError::unavailable("The speech provider is unavailable; try again shortly")
}

pub const VIDEO_GENERATE: Route =
    Route::post("media-video-generate", "/api/video/generate", handler!(video_generate::handle))
        .rate(Some(RateClass::Media))
        .idempotent()
        .max_body(4096)
        .access(START)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<video_generate::VideoBody>()),
            response: Some(|g| g.subschema_for::<video_generate::VideoStarted>()),
            success_status: 202,
            answers: &[(404, "The scenario is not the caller's and not public"), OUT_OF_CREDITS],
            ..RouteDoc::new("media", "Render a narrated title-card video of a scenario (a job)")
        });

pub const VIDEO_STATUS: Route =
    Route::get("media-video-status", "/api/video/{videoId}/status", handler!(video_status::handle)).access(READ).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<video_status::VideoAnswer>()),
            ..RouteDoc::new("media", "My video's status and progress")
        },
    );

pub const VIDEO_DOWNLOAD: Route =
    Route::get("media-video-download", "/api/video/{videoId}/download", handler!(video_download::handle))
        .access(READ_FILES)
        .doc(RouteDoc {
            query: &[
                QueryDoc::new("redirect", "false: answer {url} instead of a 302", Param::Boolean),
                QueryDoc::new("file", "video (default) or subtitles (WebVTT)", Param::OneOf(&["video", "subtitles"])),
            ],
            response: Some(|g| g.subschema_for::<video_download::DownloadAnswer>()),
            answers: &[
                (302, "To the file (Location), unless redirect=false"),
                (409, "The video is not ready (VIDEO_NOT_READY)"),
            ],
            ..RouteDoc::new("media", "My video: a 302 to a link valid 15 minutes")
        });

pub const VIDEO_MY: Route =
    Route::get("media-video-my", "/api/video/my", handler!(video_my::handle)).access(READ).doc(RouteDoc {
        query: &[PAGE, LIMIT],
        response: Some(|g| g.subschema_for::<video_my::MyVideos>()),
        ..RouteDoc::new("media", "My videos, newest first")
    });

pub const VIDEO_DELETE: Route =
    Route::delete("media-video-delete", "/api/video/{videoId}", handler!(video_delete::handle))
        .access(DELETE_FILES)
        .doc(RouteDoc::new("media", "Delete my video and its files (a render under way is stopped)"));

pub const VIDEO_PROVIDERS: Route =
    Route::get("media-video-providers", "/api/video/providers", handler!(video_providers::handle))
        .auth(AuthLevel::Optional)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<video_providers::Providers>()),
            ..RouteDoc::new("media", "The renderer and speech provider, and what they offer")
        });

pub const TTS_GENERATE: Route = Route::post("media-tts-generate", "/api/tts/generate", handler!(tts_generate::handle))
    .rate(Some(RateClass::Media))
    .idempotent()
    .max_body(128 * 1024)
    .access(START)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<tts_generate::TtsBody>()),
        response: Some(|g| g.subschema_for::<tts_generate::TtsStarted>()),
        success_status: 202,
        answers: &[
            (404, "scenarioId is not the caller's scenario and not public"),
            (422, "The speech provider has no voice for the language (NO_VOICE)"),
            OUT_OF_CREDITS,
        ],
        ..RouteDoc::new("media", "Narrate text (up to 20 000 characters) or a scenario (a job)")
    });

pub const TTS_GET: Route =
    Route::get("media-tts-get", "/api/tts/{audioId}", handler!(tts_get::handle)).access(READ_FILES).doc(RouteDoc {
        response: Some(|g| g.subschema_for::<tts_get::AudioAnswer>()),
        ..RouteDoc::new("media", "My narration's status and, when done, a link valid 15 minutes")
    });

pub const TTS_VOICES: Route = Route::get("media-tts-voices", "/api/tts/voices", handler!(tts_voices::handle))
    .auth(AuthLevel::Optional)
    .access(&[Access::Speech])
    .doc(RouteDoc {
        query: &[QueryDoc::new(
            "languageCode",
            "only this language's (en matches en-US)",
            Param::Pattern { pattern: tts_generate::LANGUAGE_CODE_PATTERN, max: 35 },
        )],
        response: Some(|g| g.subschema_for::<tts_voices::VoicesAnswer>()),
        ..RouteDoc::new("media", "The speech provider's voices")
    });

pub const TTS_ESTIMATE: Route =
    Route::post("media-tts-estimate", "/api/tts/estimate-duration", handler!(tts_estimate::handle))
        .auth(AuthLevel::None)
        .max_body(128 * 1024)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<narrate::EstimateBody>()),
            response: Some(|g| g.subschema_for::<narrate::Estimate>()),
            ..RouteDoc::new("media", "How long a text takes to say at a speaking rate")
        });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[
    VIDEO_GENERATE,
    VIDEO_STATUS,
    VIDEO_DOWNLOAD,
    VIDEO_MY,
    VIDEO_DELETE,
    VIDEO_PROVIDERS,
    TTS_GENERATE,
    TTS_GET,
    TTS_VOICES,
    TTS_ESTIMATE,
];

/// The media service: narrations and narrated videos.
pub const SERVICE: Service =
    Service { routes: ROUTES, jobs: &[tts_job::JOB, video_job::JOB], owns: data::OWNERS, ..Service::new("media") };

#[cfg(test)]
mod tests {
    use super::download_name;

    /// Found by schemathesis: a narration of one 20,000-letter word had a
    /// download name the blob store refused, and its link was a 500.
    #[test]
    fn a_download_name_is_short_and_plain_whatever_the_title() {
        assert_eq!(download_name("What if the Moon left?", "mp3"), "what-if-the-moon-left.mp3");
        assert_eq!(download_name("Điều gì xảy ra", "mp4"), "i-u-g-x-y-ra.mp4");
        assert_eq!(download_name("", "vtt"), "whatif.vtt");
        let long = download_name(&"a".repeat(20_000), "mp3");
        assert_eq!(long.len(), 84, "{long}");
        assert!(download_name(&format!("{}-b", "a".repeat(79)), "ogg").ends_with("a.ogg"));
    }
}
