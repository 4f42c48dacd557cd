//! Video and speech over HTTP, on the embedded backend (espeak-ng) and on the
//! AWS adapters (DynamoDB Local, moto, and the fake Polly of this crate):
//! narrations of long text split within the provider's limit and joined,
//! their formats, rates and pitch; narrated title-card videos read back with
//! ffprobe (streams, codecs, resolution, a duration within half a second of
//! the narration, audio that is not silent) and their WebVTT cues; owners
//! only; downloads; deletion of the objects; a cancel that stops ffmpeg and
//! leaves nothing; the scenario purge, the account export and deletion.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use whatif_shared::ports::speech::{SpeechRequest, SpeechSynthesizer};
use whatif_shared::ratelimit::RateLimits;
use whatif_shared::scenarios::Scenario;
use whatif_shared::scenarios::store;
use whatif_shared::scenarios::types::{Language, Length, PromptType, TokenUsage};
use whatif_shared::{UserId, keys};
use whatif_tests::api::{self, Answer, get, post, sign_up};
use whatif_tests::{TestServer, emulator_endpoint};

const EN_SECTIONS: &[(&str, &str)] = &[
    ("The tides", "Without the Moon the tides would shrink to a third. Coastal life would change for ever."),
    ("Darker nights", "Nights would be darker everywhere. Owls and bats would have to adapt."),
];
const VI_SECTIONS: &[(&str, &str)] =
    &[("Thủy triều", "Thủy triều sẽ yếu đi nhiều. Các hệ sinh thái ven biển sẽ thay đổi hoàn toàn.")];

/// Room for the many requests of one test in the media class (10 an hour by default).
const LIMITS: &str = "auth=100/15m,general=100000/15m,generate=100000/1h,media=1000/1h";

async fn embedded() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = RateLimits::parse(LIMITS).unwrap();
    let server = TestServer::start_in(dir.path(), |c| c.rate_limits = limits).await;
    (server, dir)
}

/// A scenario of `owner`'s, saved as generation saves one.
async fn seed(server: &TestServer, owner: &str, title: &str, sections: &[(&str, &str)], vi: bool) -> String {
    let id = server.ctx.ids.ulid().to_string();
    let sections: Vec<Value> = sections.iter().map(|(h, b)| json!({"heading": h, "body": b})).collect();
    let content =
        sections.iter().map(|s| format!("## {}\n\n{}", s["heading"], s["body"])).collect::<Vec<_>>().join("\n\n");
    let scenario = json!({
        "id": id, "topic": title, "title": title, "summary": "A test scenario.", "content": content,
        "sections": sections, "choices": [], "promptType": PromptType::Scientific,
        "language": if vi { Language::Vi } else { Language::En }, "length": Length::Short,
        "provider": "offline", "model": "offline-v1", "tokens": TokenUsage::new(10, 10), "rootId": id, "depth": 0, "tags": [],
        "promptVersion": "v3", "version": 1, "createdAt": "2026-03-01T08:15:30Z", "updatedAt": "2026-03-01T08:15:30Z",
    });
    let mut scenario: Scenario = serde_json::from_value(scenario).expect("a scenario");
    scenario.owner_id = owner.to_string();
    store::save(&server.ctx, &scenario).await.expect("saved");
    id
}

/// Polls `path` until its `status` is final (or 120 s pass); returns the
/// answers' data in order.
async fn until_final(server: &TestServer, token: &str, path: &str) -> Vec<Value> {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let answer = get(server, path, Some(token)).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        seen.push(answer.data().clone());
        if ["succeeded", "failed", "cancelled"].contains(&answer.data()["status"].as_str().unwrap_or_default()) {
            return seen;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{path} never finished: {answer:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn fetch(server: &TestServer, url: &str) -> Vec<u8> {
    let response = server.http.get(url).send().await.expect("the link answers");
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.unwrap().to_vec()
}

/// What ffprobe reads of a file: its streams and its duration.
fn probe(path: &Path) -> Value {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height,duration"])
        .args(["-show_entries", "format=duration", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(output.status.success(), "ffprobe: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("ffprobe's JSON")
}

fn duration(probe: &Value) -> f64 {
    probe["format"]["duration"].as_str().and_then(|d| d.parse().ok()).expect("a duration")
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == kind).unwrap_or_else(|| panic!("{probe}"))
}

/// The mean volume of a file's audio (ffmpeg's volumedetect), in dB.
fn mean_volume(path: &Path) -> f64 {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let log = String::from_utf8_lossy(&output.stderr);
    log.lines()
        .find_map(|l| l.split("mean_volume:").nth(1))
        .and_then(|v| v.trim().trim_end_matches("dB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no mean volume in {log}"))
}

/// A WebVTT file's cues: (start, end, text).
fn cues(vtt: &str) -> Vec<(f64, f64, String)> {
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    let secs = |t: &str| {
        let parts: Vec<f64> = t.trim().split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
    };
    let lines: Vec<&str> = vtt.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((a, b)) = line.split_once(" --> ") {
            out.push((secs(a), secs(b), lines.get(i + 1).unwrap_or(&"").to_string()));
        }
    }
    out
}

fn save(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Renders a video of `scenario` and checks every part of it; returns its id.
async fn render_and_check(
    server: &TestServer,
    token: &str,
    scenario: &str,
    resolution: &str,
    expect_text: &str,
) -> String {
    let started = post(
        server,
        "/api/video/generate",
        Some(token),
        json!({"scenarioId": scenario, "options": {"resolution": resolution, "style": "dark", "music": "ambient"}}),
    )
    .await;
    assert_eq!(started.status, 202, "{started:?}");
    let video_id = started.data()["videoId"].as_str().unwrap().to_string();
    assert!(started.data()["estimatedTime"].as_u64().unwrap() > 0);
    let seen = until_final(server, token, &format!("/api/video/{video_id}/status")).await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "succeeded", "{last}");
    assert_eq!(last["progress"], 100);
    let progress: Vec<u64> = seen.iter().map(|s| s["progress"].as_u64().unwrap()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress only moves on: {progress:?}");
    let statuses: Vec<&str> = seen.iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert!(statuses.iter().all(|s| ["queued", "running", "succeeded"].contains(s)), "{statuses:?}");
    let job = api::finished(server, token, &video_id).await;
    let narration = job["result"]["narrationSec"].as_f64().expect("the narration's length");

    let links = get(server, &format!("/api/video/{video_id}/download?redirect=false"), Some(token)).await;
    assert_eq!(links.status, 200, "{links:?}");
    let dir = tempfile::tempdir().unwrap();
    let video = save(dir.path(), "video.mp4", &fetch(server, links.data()["url"].as_str().unwrap()).await);
    let vtt = String::from_utf8(fetch(server, links.data()["subtitlesUrl"].as_str().unwrap()).await).unwrap();

    let probed = probe(&video);
    let (v, a) = (stream(&probed, "video"), stream(&probed, "audio"));
    let (w, h) = resolution.split_once('x').unwrap();
    assert_eq!((v["codec_name"].as_str(), a["codec_name"].as_str()), (Some("h264"), Some("aac")), "{probed}");
    assert_eq!((v["width"].to_string(), v["height"].to_string()), (w.to_string(), h.to_string()));
    assert!((duration(&probed) - narration).abs() <= 0.5, "video {} s, narration {narration} s", duration(&probed));
    assert!((last["durationSec"].as_f64().unwrap() - duration(&probed)).abs() < 0.01, "the status says its length");
    let volume = mean_volume(&video);
    assert!(volume > -50.0, "the narration is heard: mean volume {volume} dB");

    let cues = cues(&vtt);
    assert!(cues.len() >= 3, "{vtt}");
    assert!(cues[0].0 < 0.01, "the first cue starts with the narration");
    assert!((cues.last().unwrap().1 - narration).abs() < 0.05, "the last ends with it: {vtt}");
    assert!(cues.windows(2).all(|w| w[0].1 <= w[1].0 + 1e-3), "in order");
    let spoken: f64 = cues.iter().map(|c| c.1 - c.0).sum();
    let pauses = 0.6 * (cues.len() as f64);
    assert!(spoken >= narration - pauses, "the cues cover the narration: {spoken} of {narration}");
    assert!(vtt.contains(expect_text), "{vtt}");
    video_id
}

/// Everything media does, the same on every backend (`aws`: Polly's voices).
async fn media_life(server: &TestServer, aws: bool) {
    let suffix = whatif_tests::unique_suffix();
    let (owner_token, user) = sign_up(server, &format!("narrator-{suffix}")).await;
    let token = owner_token.as_str();
    let (other, other_id) = sign_up(server, &format!("bystander-{suffix}")).await;

    // Voices: real ones, per language; Polly has no Vietnamese and says so.
    let en = get(server, "/api/tts/voices?languageCode=en", None).await;
    assert_eq!(en.status, 200, "{en:?}");
    assert!(!en.data()["voices"].as_array().unwrap().is_empty());
    assert_eq!(en.data()["provider"], if aws { "polly" } else { "espeak-ng" });
    let vi = get(server, "/api/tts/voices?languageCode=vi", None).await;
    if aws {
        assert!(vi.data()["voices"].as_array().unwrap().is_empty());
        assert!(vi.data()["note"].as_str().unwrap().contains("no voice for vi"), "{vi:?}");
    } else {
        assert!(vi.data()["voices"].as_array().unwrap().iter().any(|v| v["id"] == "vi"), "{vi:?}");
    }
    assert_eq!(get(server, "/api/tts/voices?languageCode=english!", None).await.status, 400);
    let providers = get(server, "/api/video/providers", None).await;
    assert_eq!(providers.status, 200);
    assert_eq!(providers.data()["renderers"][0]["id"], "ffmpeg");

    // Bad requests are 4xx with the field named.
    let bad = |body: Value| async move { post(server, "/api/tts/generate", Some(token), body).await };
    for (body, field) in [
        (json!({"text": "x".repeat(20_001)}), "text"),
        (json!({"text": "   "}), "text"),
        (json!({}), "text"),
        (json!({"text": "Hi.", "scenarioId": "01KB3T2A7X9W4P0Q6R8S1T3U5V"}), "text"),
        (json!({"text": "Hi.", "options": {"speakingRate": 3}}), "options.speakingRate"),
        (json!({"text": "Hi.", "options": {"pitch": 30}}), "options.pitch"),
        (json!({"text": "Hi.", "options": {"format": "flac"}}), "options.format"),
        (json!({"text": "Hi.", "options": {"voice": "Nobody"}}), "options.voice"),
    ] {
        let answer = bad(body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert!(answer.body.to_string().contains(field), "{field}: {answer:?}");
    }
    assert_eq!(post(server, "/api/tts/generate", None, json!({"text": "Hi."})).await.status, 401);

    // A long narration: split within the provider's limit, joined, encoded.
    let sentence = "The quiet harbour woke slowly as the fishing boats returned with the morning light. ";
    let long_text = sentence.repeat(40);
    assert!(long_text.len() > 3000, "longer than one request of either provider");
    let started = post(server, "/api/tts/generate", Some(token), json!({"text": long_text})).await;
    assert_eq!(started.status, 202, "{started:?}");
    let audio_id = started.data()["audioId"].as_str().unwrap().to_string();
    let estimate = started.data()["estimatedDurationSec"].as_f64().unwrap();
    let seen = until_final(server, token, &format!("/api/tts/{audio_id}")).await;
    let done = seen.last().unwrap();
    assert_eq!(done["status"], "succeeded", "{done}");
    let dir = tempfile::tempdir().unwrap();
    let mp3 = save(dir.path(), "long.mp3", &fetch(server, done["url"].as_str().expect("a link")).await);
    let probed = probe(&mp3);
    assert_eq!(stream(&probed, "audio")["codec_name"], "mp3");
    let secs = duration(&probed);
    assert!((done["durationSec"].as_f64().unwrap() - secs).abs() < 0.1, "the answer says its duration");
    assert!(secs > 60.0, "all of it was said: {secs} s");
    assert!(mean_volume(&mp3) > -50.0, "not silent");
    if !aws {
        assert!((secs - estimate).abs() / secs < 0.2, "estimate {estimate} s, spoken {secs} s");
    }
    if aws {
        let fake = whatif_tests::fake_polly::fake_polly();
        assert!(fake.largest_text() <= 3000, "each request within Polly's limit: {}", fake.largest_text());
    }
    // Others see nothing of it.
    assert_eq!(get(server, &format!("/api/tts/{audio_id}"), Some(&other)).await.status, 404);

    // Formats, rate and pitch.
    let short = "What if the Moon had never formed? The tides would be weak, and the nights dark.";
    let slow = json!({"text": short, "options": {"format": "wav", "speakingRate": 0.75, "pitch": 4}});
    let fast = json!({"text": short, "options": {"format": "ogg", "speakingRate": 1.5, "pitch": -4}});
    let mut lengths = Vec::new();
    for (body, codec) in [(slow, "pcm_s16le"), (fast, "vorbis")] {
        let started = post(server, "/api/tts/generate", Some(token), body).await;
        assert_eq!(started.status, 202, "{started:?}");
        let id = started.data()["audioId"].as_str().unwrap();
        let done = until_final(server, token, &format!("/api/tts/{id}")).await.pop().unwrap();
        assert_eq!(done["status"], "succeeded", "{done}");
        let file = save(dir.path(), codec, &fetch(server, done["url"].as_str().unwrap()).await);
        let probed = probe(&file);
        assert_eq!(stream(&probed, "audio")["codec_name"], codec);
        assert!(mean_volume(&file) > -50.0);
        lengths.push(duration(&probed));
    }
    assert!(lengths[0] > lengths[1] * 1.5, "0.75 is slower than 1.5: {lengths:?}");

    // A video of an English scenario.
    let scenario = seed(server, &user, "What if the Moon vanished?", EN_SECTIONS, false).await;
    let private = seed(server, &other_id, "Someone else's", EN_SECTIONS, false).await;
    let refused = post(server, "/api/video/generate", Some(token), json!({"scenarioId": private})).await;
    assert_eq!(refused.status, 404, "another's private scenario: {refused:?}");
    for options in [json!({"resolution": "640x480"}), json!({"style": "neon"}), json!({"speakingRate": 0.1})] {
        let body = json!({"scenarioId": scenario, "options": options});
        let answer = post(server, "/api/video/generate", Some(token), body).await;
        assert_eq!(answer.status, 400, "{options}: {answer:?}");
    }
    let video = render_and_check(server, token, &scenario, "1280x720", "Coastal life").await;

    // Owner only; 302 to a link; listed as mine.
    for path in [format!("/api/video/{video}/status"), format!("/api/video/{video}/download")] {
        assert_eq!(get(server, &path, Some(&other)).await.status, 404, "{path}");
    }
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect =
        no_follow.get(server.url(&format!("/api/video/{video}/download"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_string();
    assert!(!fetch(server, &location).await.is_empty());
    let mine = get(server, "/api/video/my", Some(token)).await;
    assert_eq!(mine.data()["videos"][0]["videoId"], video.as_str(), "{mine:?}");
    assert_eq!(get(server, "/api/video/my", Some(&other)).await.data()["videos"], json!([]));

    // Vietnamese: espeak-ng speaks it (portrait); Polly has no voice for it.
    let vi_scenario = seed(server, &user, "Điều gì xảy ra nếu Mặt Trăng biến mất?", VI_SECTIONS, true).await;
    if aws {
        let answer = post(server, "/api/video/generate", Some(token), json!({"scenarioId": vi_scenario})).await;
        assert_eq!((answer.status, answer.code()), (422, "NO_VOICE"), "{answer:?}");
    } else {
        render_and_check(server, token, &vi_scenario, "720x1280", "Thủy triều").await;
    }

    // The export lists the media.
    let export = get(server, "/api/users/export", Some(token)).await;
    assert_eq!(export.status, 202, "{export:?}");
    let job = api::finished(server, token, export.data()["jobId"].as_str().unwrap()).await;
    let zip = fetch(server, job["result"]["file"]["downloadUrl"].as_str().unwrap()).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let listed = std::io::read_to_string(archive.by_name("media/media.json").expect("media.json")).unwrap();
    assert!(listed.contains(&video) && listed.contains(&audio_id), "{listed}");

    // Deleting a video removes its objects.
    let owner = UserId::from_trusted(&user);
    let folder = keys::media_files(&owner, &video);
    assert_eq!(server.ctx.blobs.list(&folder).await.unwrap().len(), 2, "the video and its subtitles");
    let path = format!("/api/video/{video}");
    assert_eq!(api::send(server, Method::DELETE, &path, Some(&other), None, &[]).await.status, 404);
    let deleted = api::send(server, Method::DELETE, &path, Some(token), None, &[]).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert!(server.ctx.blobs.list(&folder).await.unwrap().is_empty(), "no object left");
    assert_eq!(get(server, &format!("{path}/status"), Some(token)).await.status, 404);

    // The scenario's purge takes its media with it.
    let narrated = post(server, "/api/tts/generate", Some(token), json!({"scenarioId": scenario})).await;
    assert_eq!(narrated.status, 202, "{narrated:?}");
    let narration = narrated.data()["audioId"].as_str().unwrap().to_string();
    let done = until_final(server, token, &format!("/api/tts/{narration}")).await.pop().unwrap();
    assert_eq!(done["status"], "succeeded", "{done}");
    let saved = store::get_by_id(&server.ctx, &whatif_shared::ScenarioId::from_trusted(&scenario)).await.unwrap();
    assert!(store::purge(&server.ctx, &saved.unwrap(), None, vec![]).await.unwrap());
    assert!(server.ctx.blobs.list(&keys::media_files(&owner, &narration)).await.unwrap().is_empty());
    assert_eq!(get(server, &format!("/api/tts/{narration}"), Some(token)).await.status, 404);

    // The account's deletion removes every object it had.
    assert!(!server.ctx.blobs.list(&keys::media_of(&owner)).await.unwrap().is_empty());
    let body = json!({"password": api::PASSWORD});
    let closing = api::send(server, Method::DELETE, "/api/users/delete-account", Some(token), Some(body), &[]).await;
    assert_eq!(closing.status, 202, "{closing:?}");
    let started = Instant::now();
    while !server.ctx.blobs.list(&keys::media_of(&owner)).await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the account's media files are never removed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn speech_and_video_work_end_to_end_on_the_embedded_backend() {
    let (server, _dir) = embedded().await;
    media_life(&server, false).await;
}

#[tokio::test]
async fn speech_and_video_work_end_to_end_on_dynamodb_local_moto_and_polly() {
    let Some(dynamodb) = emulator_endpoint("WHATIF_TEST_DYNAMODB_URL") else { return };
    let Some(moto) = emulator_endpoint("WHATIF_TEST_MOTO_URL") else { return };
    let limits = RateLimits::parse(LIMITS).unwrap();
    let (server, _data) = whatif_tests::start_on_emulators(&dynamodb, &moto, |c| c.rate_limits = limits).await;
    media_life(&server, true).await;
    server.stop().await;
}

/// A cancel while ffmpeg renders: the worker kills it, nothing is put, and
/// the video says `cancelled`.
#[tokio::test]
async fn a_cancelled_render_stops_ffmpeg_and_leaves_no_object() {
    let (server, _dir) = embedded().await;
    let (token, user) = sign_up(&server, "canceller").await;
    let body =
        "The city lights flickered as the long night began, and nobody knew when the dawn would come. ".repeat(4);
    let sections: Vec<(String, String)> = (1..=6).map(|i| (format!("Chapter {i}"), body.clone())).collect();
    let sections: Vec<(&str, &str)> = sections.iter().map(|(h, b)| (h.as_str(), b.as_str())).collect();
    let scenario = seed(&server, &user, "A long night", &sections, false).await;
    let started = post(
        &server,
        "/api/video/generate",
        Some(&token),
        json!({"scenarioId": scenario, "options": {"resolution": "1920x1080"}}),
    )
    .await;
    assert_eq!(started.status, 202, "{started:?}");
    let video = started.data()["videoId"].as_str().unwrap().to_string();
    let status_path = format!("/api/video/{video}/status");
    let waited = Instant::now();
    loop {
        let status: Answer = get(&server, &status_path, Some(&token)).await;
        let progress = status.data()["progress"].as_u64().unwrap();
        assert_ne!(status.data()["status"], "succeeded", "the render finished before it could be cancelled");
        // Past 40 the narration is made and ffmpeg is rendering.
        if status.data()["status"] == "running" && progress > 40 {
            break;
        }
        assert!(waited.elapsed() < Duration::from_secs(120), "the render never started: {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cancel = post(&server, &format!("/api/jobs/{video}/cancel"), Some(&token), json!({})).await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    // The worker notices within its check interval and kills ffmpeg; the job ends.
    let folder = keys::media_files(&UserId::from_trusted(&user), &video);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = get(&server, &status_path, Some(&token)).await;
    assert_eq!(status.data()["status"], "cancelled", "{status:?}");
    assert!(status.data()["progress"].as_u64().unwrap() < 100);
    assert!(server.ctx.blobs.list(&folder).await.unwrap().is_empty(), "no object is left");
    let download = get(&server, &format!("/api/video/{video}/download"), Some(&token)).await;
    assert_eq!((download.status, download.code()), (409, "VIDEO_NOT_READY"));
    // And no ffmpeg of this render is still running: none writes its file.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(server.ctx.blobs.list(&folder).await.unwrap().is_empty());
}

/// `POST /api/tts/estimate-duration` against what espeak-ng really says.
#[tokio::test]
async fn the_duration_estimate_is_within_20_percent_of_espeak_ng() {
    let (server, _dir) = embedded().await;
    let text = "When the first settlers reached the valley, they found a river that ran backwards every evening. \
        Nobody could explain it, so they built their houses on both banks and waited. Years later, a child noticed \
        that the water turned whenever the wind came down from the mountains. The village held a festival that night, \
        and the river has been called the Listener ever since.";
    let espeak = whatif_shared::adapters::local::EspeakSpeech::new();
    for rate in [0.75_f32, 1.0, 1.5] {
        let answer =
            post(&server, "/api/tts/estimate-duration", None, json!({"text": text, "speakingRate": rate})).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let estimate = answer.data()["seconds"].as_f64().unwrap();
        let request = SpeechRequest { text: text.to_string(), voice: "en-us".into(), rate };
        let spoken = espeak.synthesize(&request).await.expect("espeak-ng speaks").seconds();
        let off = (estimate - spoken).abs() / spoken;
        assert!(off < 0.2, "rate {rate}: estimate {estimate} s, espeak-ng {spoken:.2} s ({:.0}% off)", off * 100.0);
    }
    let bad = post(&server, "/api/tts/estimate-duration", None, json!({"text": "x", "speakingRate": 5})).await;
    assert_eq!(bad.status, 400);
}

/// The Polly adapter against the fake: Polly's throttling is retried by the
/// SDK, its text limit is an error of its own, its voices are real ids.
#[tokio::test]
async fn the_polly_adapter_speaks_polly_s_protocol() {
    use whatif_shared::adapters::aws::sdk::aws_sdk_polly;
    use whatif_shared::adapters::aws::{PollySpeech, emulator_config};
    use whatif_shared::ports::speech::SpeechError;
    let fake = whatif_tests::fake_polly::fake_polly();
    let polly = PollySpeech::new(aws_sdk_polly::Client::new(&emulator_config(&fake.url)));
    let voices = polly.voices(Some("en")).await.expect("voices");
    assert!(voices.iter().any(|v| v.id == "Joanna" && v.engine == "neural"), "{voices:?}");
    assert!(polly.voices(Some("vi")).await.unwrap().is_empty(), "Polly has no Vietnamese voice");
    let say = |text: &str| SpeechRequest { text: text.to_string(), voice: "Joanna".into(), rate: 1.0 };
    let calls = fake.speech_calls();
    fake.throttle_next(1);
    let pcm = polly.synthesize(&say("Hello there. This is Polly & friends.")).await.expect("retried after throttling");
    assert_eq!(pcm.sample_rate, 16_000);
    assert!(pcm.seconds() > 1.0, "{}", pcm.seconds());
    assert!(fake.speech_calls() >= calls + 2, "the throttled call was retried");
    let too_long = polly.synthesize(&say(&"a ".repeat(1600))).await.unwrap_err();
    assert!(matches!(too_long, SpeechError::TextTooLong(_)), "{too_long:?}");
    // Within the billed limit, but over Polly's 6 000 with the SSML escapes: Polly's own error.
    let escaped = polly.synthesize(&say(&"& ".repeat(1400))).await.unwrap_err();
    assert!(
        matches!(&escaped, SpeechError::TextTooLong(m) if m.contains("TextLengthExceededException")),
        "{escaped:?}"
    );
    let unknown = polly.synthesize(&SpeechRequest { voice: "Nobody".into(), ..say("Hi.") }).await.unwrap_err();
    assert!(matches!(unknown, SpeechError::UnknownVoice(_)), "{unknown:?}");
}

/// The figures of docs/media.md and docs/performance.md ("Media"): a narrated
/// 60-second video at 1280x720 and at 1080x1920, and the narration of a
/// 5,000-character scenario, timed from the request to the finished job on
/// the embedded backend (espeak-ng, this machine's ffmpeg). The Rust around
/// the programs is not what takes the time, so a debug build measures the
/// same. Run: `cargo test -p whatif-tests --test suite media_figures -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a benchmark: run on purpose, with --ignored --nocapture"]
async fn media_figures() {
    let (server, _dir) = embedded().await;
    let (token, user) = sign_up(&server, "figures").await;
    // About a minute of espeak-ng English: three sections of ~55 words.
    let body = "The harbour town had always lived by the tides, and every family kept a clock that counted \
        the hours to high water. When the sea stopped rising one spring, the fishermen waited on the quay for \
        three days, and the children learned to walk on sand that had never seen the sun.";
    let sections: Vec<(String, String)> = (1..=3).map(|i| (format!("Part {i}"), body.to_string())).collect();
    let sections: Vec<(&str, &str)> = sections.iter().map(|(h, b)| (h.as_str(), b.as_str())).collect();
    let scenario = seed(&server, &user, "When the sea stood still", &sections, false).await;
    for resolution in ["1280x720", "1080x1920"] {
        let started = Instant::now();
        let answer = post(
            &server,
            "/api/video/generate",
            Some(&token),
            json!({"scenarioId": scenario, "options": {"resolution": resolution}}),
        )
        .await;
        assert_eq!(answer.status, 202, "{answer:?}");
        let id = answer.data()["videoId"].as_str().unwrap().to_string();
        let done = until_final(&server, &token, &format!("/api/video/{id}/status")).await.pop().unwrap();
        let took = started.elapsed().as_secs_f64();
        assert_eq!(done["status"], "succeeded", "{done}");
        let job = api::finished(&server, &token, &id).await;
        println!(
            "video {resolution}: narration {:.1} s, video {:.1} s, {} bytes, made in {took:.1} s (request to done)",
            job["result"]["narrationSec"].as_f64().unwrap(),
            done["durationSec"].as_f64().unwrap(),
            done["sizeBytes"],
        );
    }
    // A 5,000-character scenario, narrated.
    let long_body = body.repeat(4);
    let sections: Vec<(String, String)> = (1..=5).map(|i| (format!("Chapter {i}"), long_body.clone())).collect();
    let chars: usize = sections.iter().map(|(h, b)| h.len() + b.len()).sum();
    let sections: Vec<(&str, &str)> = sections.iter().map(|(h, b)| (h.as_str(), b.as_str())).collect();
    let scenario = seed(&server, &user, "The long tide", &sections, false).await;
    let started = Instant::now();
    let answer = post(&server, "/api/tts/generate", Some(&token), json!({"scenarioId": scenario})).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let id = answer.data()["audioId"].as_str().unwrap().to_string();
    let done = until_final(&server, &token, &format!("/api/tts/{id}")).await.pop().unwrap();
    let took = started.elapsed().as_secs_f64();
    assert_eq!(done["status"], "succeeded", "{done}");
    let secs = done["durationSec"].as_f64().unwrap();
    println!(
        "narration of {chars} characters: {secs:.1} s of speech made in {took:.1} s ({:.1}× real time)",
        secs / took
    );
}
