//! A fake Amazon Polly that speaks Polly's wire protocol (REST-JSON):
//! `POST /v1/speech` (SynthesizeSpeech) and `GET /v1/voices`
//! (DescribeVoices), with Polly's errors as the SDK reads them
//! (`x-amzn-ErrorType`, a JSON `message`): `TextLengthExceededException`
//! (400) past Polly's 3 000 billed characters or 6 000 in all,
//! `ThrottlingException` (400) when told to throttle, `InvalidSsmlException`,
//! and `ValidationException` for an unknown voice. moto has no
//! SynthesizeSpeech audio worth probing, so the speech is real: the SSML's
//! text is spoken by espeak-ng at the prosody rate and resampled to the
//! 16 kHz 16-bit mono PCM Polly returns.
//!
//! It runs on a thread of its own (one per test process), so it outlives
//! every test's runtime.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::fake_http::{self, Answer};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use whatif_shared::ports::speech::{SpeechRequest, SpeechSynthesizer};

/// The voices it has (Polly's real ids; no Vietnamese, as in Polly), and
/// the espeak-ng voice that speaks each.
const VOICES: &[(&str, &str, &str, &str, &str)] = &[
    ("Joanna", "en-US", "US English", "Female", "en-us"),
    ("Matthew", "en-US", "US English", "Male", "en-us"),
    ("Amy", "en-GB", "British English", "Female", "en-gb"),
];

pub struct FakePolly {
    pub url: String,
    throttle_next: AtomicU32,
    speech_calls: AtomicUsize,
    largest_text: AtomicUsize,
}

impl FakePolly {
    /// The next `n` SynthesizeSpeech calls answer ThrottlingException.
    pub fn throttle_next(&self, n: u32) {
        self.throttle_next.store(n, Ordering::SeqCst);
    }

    pub fn speech_calls(&self) -> usize {
        self.speech_calls.load(Ordering::SeqCst)
    }

    /// The most characters of text one SynthesizeSpeech call carried.
    pub fn largest_text(&self) -> usize {
        self.largest_text.load(Ordering::SeqCst)
    }
}

static FAKE: OnceLock<&'static FakePolly> = OnceLock::new();

/// The process's fake Polly, started on first use.
pub fn fake_polly() -> &'static FakePolly {
    FAKE.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake: &'static FakePolly = Box::leak(Box::new(FakePolly {
            url,
            throttle_next: AtomicU32::new(0),
            speech_calls: AtomicUsize::new(0),
            largest_text: AtomicUsize::new(0),
        }));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                fake_http::accept(listener, fake, answer).await;
            });
        });
        fake
    })
}

fn error(status: u16, kind: &str, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-ErrorType", kind)
        .header("x-amzn-RequestId", "fake-polly-request")
        .body(Full::new(Bytes::from(json!({"message": message}).to_string())))
        .expect("a response")
}

async fn answer(fake: &'static FakePolly, req: Request<Incoming>) -> Answer {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let query = req.uri().query().unwrap_or_default().to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Ok(match (method.as_str(), path.as_str()) {
        ("GET", "/v1/voices") => voices(&query),
        ("POST", "/v1/speech") => speech(fake, &body).await,
        _ => error(404, "UnknownOperationException", &format!("no operation at {method} {path}")),
    })
}

fn voices(query: &str) -> Response<Full<Bytes>> {
    let language = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "LanguageCode").map(|(_, v)| v);
    let voices: Vec<Value> = VOICES
        .iter()
        .filter(|v| language.as_deref().is_none_or(|l| l == v.1))
        .map(|(id, lang, lang_name, gender, _)| {
            json!({"Id": id, "Name": id, "LanguageCode": lang, "LanguageName": lang_name, "Gender": gender,
                   "SupportedEngines": ["neural", "standard"]})
        })
        .collect();
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json!({"Voices": voices}).to_string())))
        .expect("a response")
}

/// The text of Polly's SSML (tags dropped, entities read) and its prosody rate.
fn read_ssml(ssml: &str) -> Result<(String, f32), String> {
    let inner = ssml.trim().strip_prefix("<speak>").and_then(|s| s.strip_suffix("</speak>")).ok_or("not <speak>")?;
    let mut rate = 1.0;
    if let Some(at) = inner.find("rate=\"") {
        let rest = &inner[at + 6..];
        let value = rest.split('"').next().unwrap_or_default();
        rate = value.trim_end_matches('%').parse::<f32>().map_err(|_| "bad rate")? / 100.0;
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Ok((text, rate))
}

async fn speech(fake: &'static FakePolly, body: &[u8]) -> Response<Full<Bytes>> {
    fake.speech_calls.fetch_add(1, Ordering::SeqCst);
    if fake.throttle_next.load(Ordering::SeqCst) > 0 {
        fake.throttle_next.fetch_sub(1, Ordering::SeqCst);
        return error(400, "ThrottlingException", "Rate exceeded");
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let (raw, text_type, voice_id) = (field("Text"), field("TextType"), field("VoiceId"));
    if field("OutputFormat") != "pcm" || !matches!(field("SampleRate").as_str(), "8000" | "16000") {
        return error(400, "ValidationException", "this fake serves pcm at 8000 or 16000 Hz");
    }
    if raw.chars().count() > 6000 {
        return error(400, "TextLengthExceededException", "Maximum text length has been exceeded");
    }
    let (text, rate) = if text_type == "ssml" {
        match read_ssml(&raw) {
            Ok(read) => read,
            Err(why) => return error(400, "InvalidSsmlException", &format!("Invalid SSML request: {why}")),
        }
    } else {
        (raw.clone(), 1.0)
    };
    if text.chars().count() > 3000 {
        return error(400, "TextLengthExceededException", "Maximum text length has been exceeded");
    }
    fake.largest_text.fetch_max(text.chars().count(), Ordering::SeqCst);
    let Some(espeak_voice) = VOICES.iter().find(|v| v.0 == voice_id).map(|v| v.4) else {
        return error(
            400,
            "ValidationException",
            &format!("Value '{voice_id}' at 'voiceId' failed to satisfy constraint"),
        );
    };
    let sample_rate: u32 = field("SampleRate").parse().unwrap_or(16_000);
    let espeak = whatif_shared::adapters::local::EspeakSpeech::new();
    let request = SpeechRequest { text: text.clone(), voice: espeak_voice.to_string(), rate };
    // espeak-ng takes a piece at a time; Polly's limit is larger.
    let mut samples = Vec::new();
    let mut source_rate = 22_050;
    for piece in whatif_shared::ports::speech::split_text(&request.text, espeak.max_request_bytes()) {
        match espeak.synthesize(&SpeechRequest { text: piece, ..request.clone() }).await {
            Ok(pcm) => {
                source_rate = pcm.sample_rate;
                samples.extend(pcm.samples);
            }
            Err(e) => return error(500, "ServiceFailureException", &e.to_string()),
        }
    }
    let resampled = resample(&samples, source_rate, sample_rate);
    let bytes: Vec<u8> = resampled.iter().flat_map(|s| s.to_le_bytes()).collect();
    Response::builder()
        .status(200)
        .header("content-type", "audio/pcm")
        .header("x-amzn-RequestCharacters", text.chars().count().to_string())
        .body(Full::new(Bytes::from(bytes)))
        .expect("a response")
}

/// Linear resampling (enough for a fake's speech).
fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if samples.is_empty() || from == to {
        return samples.to_vec();
    }
    let out_len = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..out_len)
        .map(|i| {
            let pos = i as f64 * f64::from(from) / f64::from(to);
            let (at, frac) = (pos.floor() as usize, pos.fract());
            let a = f64::from(samples[at.min(samples.len() - 1)]);
            let b = f64::from(samples[(at + 1).min(samples.len() - 1)]);
            (a + (b - a) * frac).round() as i16
        })
        .collect()
}
