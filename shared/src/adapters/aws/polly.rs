//! The speech port on Amazon Polly: `SynthesizeSpeech` as SSML (the speaking
//! rate as `<prosody rate>`), PCM 16 kHz out; the neural engine when the voice
//! has it, else the standard one. Voices come from `DescribeVoices` (read once
//! per process). Polly has no Vietnamese voice: `languageCode=vi` lists none.
//!
//! Limits (Polly's): 3 000 billed characters (the text) and 6 000 in all
//! (with the SSML tags) per request; the media service splits longer text.

use async_trait::async_trait;
use aws_sdk_polly::Client;
use aws_sdk_polly::types::{Engine, OutputFormat, TextType, VoiceId};

use super::{describe, error_code};
use crate::ports::speech::{Pcm, SpeechError, SpeechRequest, SpeechSynthesizer, Voice, language_matches};

const SERVICE: &str = "polly";
/// Polly's PCM comes at 8 000 or 16 000 Hz.
pub const POLLY_SAMPLE_RATE: u32 = 16_000;
/// Polly's limit on the characters of the text it bills (SSML tags excluded).
pub const POLLY_MAX_TEXT_CHARS: usize = 3000;
/// Polly's limit on the whole request text, SSML included.
pub const POLLY_MAX_TOTAL_CHARS: usize = 6000;

pub struct PollySpeech {
    client: super::Lazy<Client>,
    voices: tokio::sync::OnceCell<Vec<Voice>>,
}

impl PollySpeech {
    pub fn new(client: impl Into<super::Lazy<Client>>) -> Self {
        Self { client: client.into(), voices: tokio::sync::OnceCell::new() }
    }

    async fn all_voices(&self) -> Result<&Vec<Voice>, SpeechError> {
        self.voices
            .get_or_try_init(|| async {
                let mut voices = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let out = self
                        .client
                        .describe_voices()
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| map_error(&e))?;
                    for v in out.voices() {
                        let engines = v.supported_engines();
                        let engine = if engines.contains(&Engine::Neural) || engines.is_empty() {
                            "neural"
                        } else if engines.contains(&Engine::Standard) {
                            "standard"
                        } else {
                            // Generative- or long-form-only voices are not offered here.
                            continue;
                        };
                        let Some(id) = v.id() else { continue };
                        voices.push(Voice {
                            id: id.as_str().to_string(),
                            name: v.name().unwrap_or(id.as_str()).to_string(),
                            language_code: v.language_code().map(|l| l.as_str().to_string()).unwrap_or_default(),
                            language_name: v.language_name().unwrap_or_default().to_string(),
                            gender: v.gender().map(|g| g.as_str().to_string()).unwrap_or_default(),
                            engine: engine.to_string(),
                            provider: SERVICE.to_string(),
                        });
                    }
                    token = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
                    if token.is_none() {
                        break;
                    }
                }
                voices.sort_by(|a, b| (&a.language_code, &a.id).cmp(&(&b.language_code, &b.id)));
                Ok(voices)
            })
            .await
    }
}

/// The text as SSML at `rate` (Polly's `<prosody rate>` takes a percentage).
pub fn ssml(text: &str, rate: f32) -> String {
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    let percent = (rate.clamp(0.5, 2.0) * 100.0).round() as u32;
    format!("<speak><prosody rate=\"{percent}%\">{escaped}</prosody></speak>")
}

fn map_error<E, R>(err: &aws_sdk_polly::error::SdkError<E, R>) -> SpeechError
where
    E: aws_sdk_polly::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = describe(SERVICE, err);
    match error_code(err) {
        Some("TextLengthExceededException") => SpeechError::TextTooLong(message),
        Some("ThrottlingException" | "TooManyRequestsException") => SpeechError::Throttled(message),
        Some("InvalidSsmlException" | "LanguageNotSupportedException" | "EngineNotSupportedException")
        | Some("InvalidSampleRateException" | "ValidationException") => SpeechError::Invalid(message),
        Some(_) | None => SpeechError::Unavailable(message),
    }
}

#[async_trait]
impl SpeechSynthesizer for PollySpeech {
    fn provider(&self) -> &'static str {
        SERVICE
    }

    /// Bytes are at least characters, so this keeps within the billed limit.
    fn max_request_bytes(&self) -> usize {
        POLLY_MAX_TEXT_CHARS
    }

    /// Polly's default rate is 8 concurrent requests per second and account.
    fn parallelism(&self) -> usize {
        4
    }

    async fn voices(&self, language_code: Option<&str>) -> Result<Vec<Voice>, SpeechError> {
        let all = self.all_voices().await?;
        Ok(all
            .iter()
            .filter(|v| language_code.is_none_or(|l| language_matches(&v.language_code, l)))
            .cloned()
            .collect())
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Pcm, SpeechError> {
        let chars = request.text.chars().count();
        let ssml = ssml(&request.text, request.rate);
        // The billed limit is checked here; the total with the SSML (escapes
        // count there) is Polly's to refuse (TextLengthExceededException).
        if chars > POLLY_MAX_TEXT_CHARS {
            return Err(SpeechError::TextTooLong(format!("{chars} characters; Polly takes {POLLY_MAX_TEXT_CHARS}")));
        }
        let voice = self
            .all_voices()
            .await?
            .iter()
            .find(|v| v.id == request.voice)
            .ok_or_else(|| SpeechError::UnknownVoice(request.voice.clone()))?;
        let engine = if voice.engine == "neural" { Engine::Neural } else { Engine::Standard };
        let out = self
            .client
            .synthesize_speech()
            .text(ssml)
            .text_type(TextType::Ssml)
            .voice_id(VoiceId::from(voice.id.as_str()))
            .engine(engine)
            .output_format(OutputFormat::Pcm)
            .sample_rate(POLLY_SAMPLE_RATE.to_string())
            .send()
            .await
            .map_err(|e| map_error(&e))?;
        let bytes = out
            .audio_stream
            .collect()
            .await
            .map_err(|e| SpeechError::Unavailable(format!("{SERVICE}: reading the audio: {e}")))?
            .into_bytes();
        let samples = bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        Ok(Pcm { sample_rate: POLLY_SAMPLE_RATE, samples })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_into_ssml_with_its_rate() {
        assert_eq!(
            ssml("Tom & Jerry <3 \"hi\"", 1.25),
            "<speak><prosody rate=\"125%\">Tom &amp; Jerry &lt;3 &quot;hi&quot;</prosody></speak>"
        );
        assert!(ssml("x", 9.0).contains("200%"));
    }
}
