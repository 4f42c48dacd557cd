//! Speech synthesis: text in, 16-bit mono PCM out. Amazon Polly in AWS
//! (`crate::adapters::aws::PollySpeech`), espeak-ng on the embedded backend
//! (`crate::adapters::local::EspeakSpeech`). Callers split long text with
//! [`split_text`] to the provider's [`SpeechSynthesizer::max_request_bytes`]
//! and join the pieces themselves (the media service does, with ffmpeg).

use async_trait::async_trait;
use serde::Serialize;

/// One voice a provider offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Voice {
    /// What `options.voice` takes (Polly's `VoiceId`, espeak-ng's voice name).
    pub id: String,
    pub name: String,
    /// BCP 47, e.g. `en-US`, `vi`.
    pub language_code: String,
    pub language_name: String,
    /// `Female`, `Male`, or empty when the provider does not say.
    pub gender: String,
    /// `neural` or `standard` (Polly); `formant` (espeak-ng).
    pub engine: String,
    pub provider: String,
}

/// What to say, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeechRequest {
    /// Plain text, at most [`SpeechSynthesizer::max_request_bytes`] bytes.
    pub text: String,
    /// A voice id of this provider.
    pub voice: String,
    /// 0.5–2: 1 is the voice's normal speed.
    pub rate: f32,
}

/// Signed 16-bit little-endian mono samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Pcm {
    pub fn seconds(&self) -> f64 {
        if self.sample_rate == 0 { 0.0 } else { self.samples.len() as f64 / f64::from(self.sample_rate) }
    }

    /// `secs` of silence at `sample_rate`.
    pub fn silence(sample_rate: u32, secs: f64) -> Self {
        Self { sample_rate, samples: vec![0; (f64::from(sample_rate) * secs).round() as usize] }
    }

    /// The samples as a RIFF/WAVE file (PCM, 16-bit, mono).
    pub fn to_wav(&self) -> Vec<u8> {
        let data_len = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Reads a PCM 16-bit mono WAVE file (what espeak-ng writes).
    pub fn from_wav(bytes: &[u8]) -> Result<Self, SpeechError> {
        let bad = |what: &str| SpeechError::Unavailable(format!("unreadable WAVE output: {what}"));
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad("no RIFF/WAVE header"));
        }
        let (mut at, mut sample_rate, mut format_ok) = (12usize, 0u32, false);
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let declared = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
            let body = &bytes[at + 8..];
            // espeak-ng writes to a pipe with a data size of 0x7fffffff: take what is there.
            let len = declared.min(body.len());
            match id {
                b"fmt " if len >= 16 => {
                    let format = u16::from_le_bytes([body[0], body[1]]);
                    let channels = u16::from_le_bytes([body[2], body[3]]);
                    sample_rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    let bits = u16::from_le_bytes([body[14], body[15]]);
                    format_ok = format == 1 && channels == 1 && bits == 16;
                }
                b"data" => {
                    if !format_ok || sample_rate == 0 {
                        return Err(bad("not 16-bit mono PCM"));
                    }
                    let samples =
                        body[..len - len % 2].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
                    return Ok(Self { sample_rate, samples });
                }
                _ => {}
            }
            at += 8 + len + len % 2;
        }
        Err(bad("no data chunk"))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpeechError {
    /// The text is longer than the provider takes in one request.
    #[error("text too long: {0}")]
    TextTooLong(String),
    /// The provider has no such voice (or not for that language).
    #[error("unknown voice: {0}")]
    UnknownVoice(String),
    /// The provider refused the request's content or settings.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Too many requests: worth trying again later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The provider failed or could not be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl SpeechError {
    /// Another try later might succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SpeechError::Throttled(_) | SpeechError::Unavailable(_))
    }
}

#[async_trait]
pub trait SpeechSynthesizer: Send + Sync {
    /// `polly` or `espeak-ng`.
    fn provider(&self) -> &'static str;
    /// The most text (UTF-8 bytes) one request takes.
    fn max_request_bytes(&self) -> usize;
    /// How many requests are worth running at once.
    fn parallelism(&self) -> usize;
    /// Its voices, of one language when `language_code` is given (`en` matches
    /// `en-US`, `en-GB`, ...).
    async fn voices(&self, language_code: Option<&str>) -> Result<Vec<Voice>, SpeechError>;
    async fn synthesize(&self, request: &SpeechRequest) -> Result<Pcm, SpeechError>;
}

/// Whether a voice's language code is `wanted` or one of its regions
/// (`en` matches `en-US`; `en-us` matches `en-US`).
pub fn language_matches(code: &str, wanted: &str) -> bool {
    let (code, wanted) = (code.to_ascii_lowercase(), wanted.to_ascii_lowercase());
    code == wanted || code.starts_with(&format!("{wanted}-"))
}

/// Splits `text` into pieces of at most `max_bytes` bytes: at sentence ends
/// where it can, else at the last space, else at a character boundary.
/// Pieces are trimmed; empty ones are dropped. Joined with spaces they say
/// the same words.
pub fn split_text(text: &str, max_bytes: usize) -> Vec<String> {
    let max_bytes = max_bytes.max(4);
    let mut pieces = Vec::new();
    let mut current = String::new();
    for sentence in sentences(text) {
        if current.len() + sentence.len() < max_bytes {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&sentence);
            continue;
        }
        if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if sentence.len() <= max_bytes {
            current = sentence;
            continue;
        }
        // One sentence over the limit: cut it at spaces (or anywhere).
        let mut rest = sentence.as_str();
        while rest.len() > max_bytes {
            let mut cut = max_bytes;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let at = rest[..cut].rfind(char::is_whitespace).filter(|&i| i > 0).unwrap_or(cut);
            pieces.push(rest[..at].trim().to_string());
            rest = rest[at..].trim_start();
        }
        current = rest.to_string();
    }
    if !current.trim().is_empty() {
        pieces.push(current);
    }
    pieces.retain(|p| !p.trim().is_empty());
    pieces
}

/// The sentences of `text` (ending at `.`, `!`, `?`, `…` or a line break), trimmed.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' || c == '\r' {
            push_sentence(&mut out, &mut current);
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?' | '…') {
            // Closing quotes and brackets stay with their sentence.
            while let Some(&next) = chars.peek() {
                if matches!(next, '"' | '\'' | ')' | ']' | '”' | '’' | '.' | '!' | '?') {
                    current.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            if chars.peek().is_none_or(|n| n.is_whitespace()) {
                push_sentence(&mut out, &mut current);
            }
        }
    }
    push_sentence(&mut out, &mut current);
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let collapsed = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !collapsed.is_empty() {
        out.push(collapsed);
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_at_sentence_ends_within_the_limit() {
        let text = "One two three. Four five six! Seven eight nine? Ten.";
        let pieces = split_text(text, 30);
        assert_eq!(pieces, ["One two three. Four five six!", "Seven eight nine? Ten."]);
        assert!(pieces.iter().all(|p| p.len() <= 30));
    }

    #[test]
    fn an_overlong_sentence_is_cut_at_spaces_and_never_inside_a_character() {
        let text = "Hà Nội mùa thu đẹp lắm và trời trong xanh không một gợn mây nào cả";
        let pieces = split_text(text, 20);
        assert!(pieces.iter().all(|p| p.len() <= 20), "{pieces:?}");
        assert_eq!(pieces.join(" "), text);
        let no_spaces = "ắ".repeat(30);
        let pieces = split_text(&no_spaces, 10);
        assert!(pieces.iter().all(|p| p.len() <= 10));
        assert_eq!(pieces.concat(), no_spaces);
    }

    #[test]
    fn sentences_keep_their_quotes_and_break_at_lines() {
        assert_eq!(sentences("He said \"go.\" Then left.\nNew line"), ["He said \"go.\"", "Then left.", "New line"]);
        assert_eq!(sentences("3.5 is a number. Yes"), ["3.5 is a number.", "Yes"]);
    }

    #[test]
    fn wav_round_trips() {
        let pcm = Pcm { sample_rate: 22050, samples: vec![0, 1, -1, i16::MAX, i16::MIN] };
        assert_eq!(Pcm::from_wav(&pcm.to_wav()).unwrap(), pcm);
        assert!(Pcm::from_wav(b"nope").is_err());
    }

    #[test]
    fn languages_match_their_regions() {
        assert!(language_matches("en-US", "en"));
        assert!(language_matches("en-US", "en-us"));
        assert!(!language_matches("en-US", "e"));
        assert!(!language_matches("vi", "en"));
    }
}
