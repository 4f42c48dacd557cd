//! Audio with ffmpeg: narration pieces joined with the concat demuxer (the
//! pieces are PCM at one rate, so the joins have no gaps and no clicks), the
//! pitch applied, and the result encoded as MP3, Ogg Vorbis or WAV.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::ports::speech::Pcm;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    #[default]
    Mp3,
    Ogg,
    Wav,
}

impl AudioFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Ogg => "ogg",
            AudioFormat::Wav => "wav",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Ogg => "audio/ogg",
            AudioFormat::Wav => "audio/wav",
        }
    }

    /// ffmpeg's encoder options for it (speech: mono, modest bit rates).
    fn codec(self) -> &'static [&'static str] {
        match self {
            AudioFormat::Mp3 => &["-c:a", "libmp3lame", "-b:a", "64k"],
            AudioFormat::Ogg => &["-c:a", "libvorbis", "-q:a", "3"],
            AudioFormat::Wav => &["-c:a", "pcm_s16le"],
        }
    }
}

/// The pitch's range, in semitones.
pub const PITCH_RANGE: (f32, f32) = (-20.0, 20.0);

/// The filter that shifts the pitch by `semitones` and keeps the tempo:
/// resample to move the pitch, then `atempo` (each within 0.5–2) to undo the
/// change of speed. None for no shift.
pub fn pitch_filter(semitones: f32, sample_rate: u32) -> Option<String> {
    if semitones.abs() < 0.01 {
        return None;
    }
    let factor = 2f64.powf(f64::from(semitones) / 12.0);
    let mut filters = vec![
        format!("asetrate={}", (f64::from(sample_rate) * factor).round() as u64),
        format!("aresample={sample_rate}"),
    ];
    let mut tempo = 1.0 / factor;
    while tempo < 0.5 {
        filters.push("atempo=0.5".into());
        tempo /= 0.5;
    }
    while tempo > 2.0 {
        filters.push("atempo=2".into());
        tempo /= 2.0;
    }
    filters.push(format!("atempo={tempo:.6}"));
    Some(filters.join(","))
}

/// Writes each piece as a WAVE file in `dir` and the concat demuxer's list of
/// them; returns the list's path.
pub fn write_pieces(dir: &Path, pieces: &[Pcm]) -> std::io::Result<std::path::PathBuf> {
    let mut list = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let path = dir.join(format!("piece-{i:05}.wav"));
        std::fs::write(&path, piece.to_wav())?;
        list.push_str(&format!("file '{}'\n", path.display()));
    }
    let list_path = dir.join("pieces.txt");
    std::fs::write(&list_path, list)?;
    Ok(list_path)
}

/// ffmpeg's arguments to join the listed pieces into `out` as `format`, pitch shifted.
pub fn join_args(list: &Path, out: &Path, format: AudioFormat, pitch: f32, sample_rate: u32) -> Vec<String> {
    let mut args: Vec<String> = ["-f", "concat", "-safe", "0", "-i"]
        .iter()
        .map(|s| s.to_string())
        .chain([list.display().to_string()])
        .collect();
    if let Some(filter) = pitch_filter(pitch, sample_rate) {
        args.extend(["-af".to_string(), filter]);
    }
    args.extend(["-ac", "1"].iter().map(|s| s.to_string()));
    args.extend(format.codec().iter().map(|s| s.to_string()));
    args.push(out.display().to_string());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_shifts_keep_the_tempo_within_atempo_limits() {
        assert_eq!(pitch_filter(0.0, 22050), None);
        let up = pitch_filter(12.0, 22050).unwrap();
        assert!(up.starts_with("asetrate=44100,aresample=22050,atempo=0.5"), "{up}");
        let down = pitch_filter(-20.0, 16000).unwrap();
        // 2^(20/12) ≈ 3.17: one atempo=2 then ≈1.587.
        assert!(down.contains("atempo=2,atempo=1.58"), "{down}");
    }
}
