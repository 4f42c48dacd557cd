//! The speech port on espeak-ng, the real program (`espeak-ng` on the PATH):
//! the text goes in on stdin, a 16-bit mono WAVE file (22 050 Hz) comes out
//! on stdout. Voices are what `espeak-ng --voices` lists (its MBROLA voices
//! left out: they need databases that are not installed).

use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::ports::speech::{Pcm, SpeechError, SpeechRequest, SpeechSynthesizer, Voice, language_matches};

/// espeak-ng's speed at rate 1, in words per minute (its default).
pub const ESPEAK_WORDS_PER_MINUTE: f32 = 175.0;

/// The program, overridable for a non-standard install.
fn program() -> String {
    std::env::var("WHATIF_ESPEAK_PROGRAM").unwrap_or_else(|_| "espeak-ng".to_string())
}

#[derive(Default)]
pub struct EspeakSpeech {
    voices: tokio::sync::OnceCell<Vec<Voice>>,
}

impl EspeakSpeech {
    pub fn new() -> Self {
        Self::default()
    }

    async fn all_voices(&self) -> Result<&Vec<Voice>, SpeechError> {
        self.voices
            .get_or_try_init(|| async {
                let output = Command::new(program())
                    .arg("--voices")
                    .kill_on_drop(true)
                    .output()
                    .await
                    .map_err(|e| SpeechError::Unavailable(format!("cannot run espeak-ng: {e}")))?;
                if !output.status.success() {
                    return Err(SpeechError::Unavailable(format!("espeak-ng --voices exited with {}", output.status)));
                }
                Ok(parse_voices(&String::from_utf8_lossy(&output.stdout)))
            })
            .await
    }
}

/// The voices of `espeak-ng --voices` output (its MBROLA voices left out).
pub fn parse_voices(listing: &str) -> Vec<Voice> {
    listing
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let [_, language, age_gender, name, file, ..] = cols[..] else { return None };
            if file.starts_with("mb/") {
                return None;
            }
            let gender = match age_gender.rsplit('/').next() {
                Some("M") => "Male",
                Some("F") => "Female",
                _ => "",
            };
            Some(Voice {
                id: language.to_string(),
                name: name.replace('_', " "),
                language_code: bcp47(language),
                language_name: name.split('_').next().unwrap_or(name).to_string(),
                gender: gender.to_string(),
                engine: "formant".to_string(),
                provider: "espeak-ng".to_string(),
            })
        })
        .collect()
}

/// espeak-ng's `en-us` as BCP 47's `en-US` (a two-letter region upper-cased).
fn bcp47(language: &str) -> String {
    let mut parts: Vec<String> = language.split('-').map(str::to_string).collect();
    if parts.len() >= 2 && parts[1].len() == 2 {
        parts[1] = parts[1].to_ascii_uppercase();
    }
    parts.join("-")
}

#[async_trait]
impl SpeechSynthesizer for EspeakSpeech {
    fn provider(&self) -> &'static str {
        "espeak-ng"
    }

    /// espeak-ng has no limit of its own; pieces this size keep each run short
    /// and let several run at once.
    fn max_request_bytes(&self) -> usize {
        2000
    }

    fn parallelism(&self) -> usize {
        std::thread::available_parallelism().map(usize::from).unwrap_or(1).clamp(1, 4)
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
        if request.text.len() > self.max_request_bytes() {
            return Err(SpeechError::TextTooLong(format!(
                "{} bytes; espeak-ng pieces are at most {}",
                request.text.len(),
                self.max_request_bytes()
            )));
        }
        if !self.all_voices().await?.iter().any(|v| v.id == request.voice) {
            return Err(SpeechError::UnknownVoice(request.voice.clone()));
        }
        let speed = (ESPEAK_WORDS_PER_MINUTE * request.rate.clamp(0.5, 2.0)).round() as u32;
        let mut child = Command::new(program())
            .args(["-v", &request.voice, "-s", &speed.to_string(), "--stdout", "--stdin", "-b", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SpeechError::Unavailable(format!("cannot run espeak-ng: {e}")))?;
        let mut stdin = child.stdin.take().ok_or_else(|| SpeechError::Unavailable("no stdin".into()))?;
        let text = request.text.clone();
        let writer = tokio::spawn(async move {
            stdin.write_all(text.as_bytes()).await?;
            stdin.shutdown().await
        });
        let output =
            child.wait_with_output().await.map_err(|e| SpeechError::Unavailable(format!("espeak-ng failed: {e}")))?;
        writer
            .await
            .map_err(|e| SpeechError::Unavailable(format!("espeak-ng input: {e}")))?
            .map_err(|e| SpeechError::Unavailable(format!("espeak-ng input: {e}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(SpeechError::Unavailable(format!(
                "espeak-ng exited with {}: {}",
                output.status,
                stderr.chars().take(200).collect::<String>()
            )));
        }
        Pcm::from_wav(&output.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_listing_reads_without_mbrola() {
        let listing = "Pty Language       Age/Gender VoiceName          File                 Other Languages\n \
             5  vi              --/M      Vietnamese_(Northern) aav/vi\n \
             2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n \
             3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)\n";
        let voices = parse_voices(listing);
        assert_eq!(voices.len(), 2);
        assert_eq!(voices[0].id, "vi");
        assert_eq!(voices[0].name, "Vietnamese (Northern)");
        assert_eq!(voices[1].language_code, "en-US");
        assert_eq!(voices[1].gender, "Male");
    }
}
