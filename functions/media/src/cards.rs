//! Title cards and subtitles. A card's heading and body are wrapped to the
//! frame with Noto Sans's own advance widths (so Vietnamese diacritics and
//! every other letter measure what they draw), the body's size shrinking
//! until it fits above the subtitle band. Subtitles are WebVTT cues timed to
//! the narration, one per sentence (long ones split by length).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The frame sizes a video is made at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Resolution {
    #[default]
    #[serde(rename = "1280x720")]
    Hd,
    #[serde(rename = "1920x1080")]
    FullHd,
    #[serde(rename = "720x1280")]
    HdPortrait,
    #[serde(rename = "1080x1920")]
    FullHdPortrait,
}

impl Resolution {
    pub fn size(self) -> (u32, u32) {
        match self {
            Resolution::Hd => (1280, 720),
            Resolution::FullHd => (1920, 1080),
            Resolution::HdPortrait => (720, 1280),
            Resolution::FullHdPortrait => (1080, 1920),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Hd => "1280x720",
            Resolution::FullHd => "1920x1080",
            Resolution::HdPortrait => "720x1280",
            Resolution::FullHdPortrait => "1080x1920",
        }
    }
}

/// A card's colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Light text on deep blue (the default).
    #[default]
    Dark,
    /// Dark text on paper white.
    Light,
    /// Cream text on brown.
    Sepia,
}

impl Style {
    /// Background, heading and body colours (ffmpeg's `0xRRGGBB`).
    pub fn colours(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Style::Dark => ("0x14213d", "0xfca311", "0xf1f1f1"),
            Style::Light => ("0xf5f1e8", "0x1d3557", "0x222222"),
            Style::Sepia => ("0x3b2f2f", "0xf4d35e", "0xf0e6d2"),
        }
    }
}

/// One line of text on a card, where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub x: u32,
    pub y: u32,
    pub size: u32,
    pub heading: bool,
}

/// Measures text in Noto Sans.
pub struct Measure {
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
}

impl Measure {
    pub fn new() -> Result<Self, String> {
        let face = ttf_parser::Face::parse(whatif_shared::fonts::NOTO_SANS_REGULAR, 0)
            .map_err(|e| format!("the embedded font does not parse: {e}"))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(Self { face, units_per_em })
    }

    /// The width of `text` at `size` pixels.
    pub fn width(&self, text: &str, size: u32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                let glyph = self.face.glyph_index(c).or_else(|| self.face.glyph_index('?'));
                glyph.and_then(|g| self.face.glyph_hor_advance(g)).map_or(0.0, f32::from)
            })
            .sum();
        units * size as f32 / self.units_per_em
    }

    /// `text` in lines no wider than `max_width` at `size` (a word wider than
    /// the line is cut between characters).
    pub fn wrap(&self, text: &str, size: u32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if self.width(&candidate, size) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if self.width(word, size) <= max_width {
                line = word.to_string();
                continue;
            }
            for c in word.chars() {
                if !line.is_empty() && self.width(&format!("{line}{c}"), size) > max_width {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// The lines of a card at `width`×`height`: a centred heading (the title
/// card's is larger and vertically centred) and a left-aligned body above the
/// subtitle band (the bottom fifth). A body too long even at the smallest
/// size ends with an ellipsis (the narration still says all of it).
pub fn layout(measure: &Measure, width: u32, height: u32, heading: &str, body: &str, title_card: bool) -> Vec<Line> {
    let short = width.min(height) as f32;
    let margin = (width as f32 * 0.07).round();
    let max_width = width as f32 - 2.0 * margin;
    let top = (height as f32 * 0.08).round();
    let bottom = (height as f32 * 0.78).round();
    let mut lines = Vec::new();
    let heading_size = (short * if title_card { 0.085 } else { 0.062 }).round() as u32;
    let heading_lines = measure.wrap(heading, heading_size, max_width);
    let heading_step = (heading_size as f32 * 1.3).round() as u32;
    let heading_height = heading_step * heading_lines.len() as u32;
    let mut y = if title_card && body.is_empty() {
        ((bottom - heading_height as f32) / 2.0).max(top) as u32
    } else {
        top as u32
    };
    for text in heading_lines {
        let x = ((width as f32 - measure.width(&text, heading_size)) / 2.0).max(margin) as u32;
        lines.push(Line { text, x, y, size: heading_size, heading: true });
        y += heading_step;
    }
    if body.is_empty() {
        return lines;
    }
    y += (short * 0.03) as u32;
    let available = bottom - y as f32;
    let (min_size, mut size) = ((short * 0.03).round() as u32, (short * 0.045).round() as u32);
    let mut body_lines = measure.wrap(body, size, max_width);
    while size > min_size && body_lines.len() as f32 * size as f32 * 1.35 > available {
        size -= 1;
        body_lines = measure.wrap(body, size, max_width);
    }
    let step = (size as f32 * 1.35).round() as u32;
    let fit = ((available / step as f32).floor() as usize).max(1);
    if body_lines.len() > fit {
        body_lines.truncate(fit);
        if let Some(last) = body_lines.last_mut() {
            while !last.is_empty() && measure.width(&format!("{last} …"), size) > max_width {
                last.pop();
            }
            last.push_str(" …");
        }
    }
    for text in body_lines {
        lines.push(Line { text, x: margin as u32, y, size, heading: false });
        y += step;
    }
    lines
}

/// A subtitle cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// The longest cue text; a longer sentence is shown in parts, each for its
/// share of the sentence's time (by characters).
pub const MAX_CUE_CHARS: usize = 84;

/// The cues of a sentence spoken from `start` for `secs`.
pub fn sentence_cues(sentence: &str, start: f64, secs: f64) -> Vec<Cue> {
    let mut parts: Vec<String> = Vec::new();
    for word in sentence.split_whitespace() {
        match parts.last_mut() {
            Some(last) if last.chars().count() + 1 + word.chars().count() <= MAX_CUE_CHARS => {
                last.push(' ');
                last.push_str(word);
            }
            _ => parts.push(word.to_string()),
        }
    }
    let total: usize = parts.iter().map(|p| p.chars().count()).sum::<usize>().max(1);
    let mut at = start;
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let end =
                if i + 1 == count { start + secs } else { at + secs * text.chars().count() as f64 / total as f64 };
            let cue = Cue { start: at, end, text };
            at = end;
            cue
        })
        .collect()
}

/// `secs` as WebVTT's `hh:mm:ss.mmm`.
pub fn vtt_time(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// The cues as a WebVTT file.
pub fn webvtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (i, cue) in cues.iter().enumerate() {
        // A cue's text may not hold "-->" or a blank line.
        let text = cue.text.replace("-->", "→");
        out.push_str(&format!("{}\n{} --> {}\n{}\n\n", i + 1, vtt_time(cue.start), vtt_time(cue.end), text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_within_the_frame_and_vietnamese_measures() {
        let m = Measure::new().unwrap();
        let lines = m.wrap("Hà Nội mùa thu, phố cổ rêu phong và những hàng cây xanh mát bên hồ Gươm", 40, 500.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| m.width(l, 40) <= 500.0), "{lines:?}");
        assert!(m.width("Đ", 40) > 0.0, "the font has Vietnamese letters");
        assert_eq!(m.wrap("", 40, 500.0), Vec::<String>::new());
    }

    #[test]
    fn a_long_body_shrinks_then_ends_with_an_ellipsis_above_the_subtitles() {
        let m = Measure::new().unwrap();
        let body = "word ".repeat(2000);
        let lines = layout(&m, 1280, 720, "A heading", &body, false);
        let last = lines.last().unwrap();
        assert!(last.text.ends_with('…'));
        assert!(last.y + last.size <= (720.0 * 0.78) as u32 + last.size, "stays above the subtitle band");
        assert!(lines.iter().all(|l| l.x as f32 + m.width(&l.text, l.size) <= 1280.0 - 1280.0 * 0.07 + 1.0));
    }

    #[test]
    fn cues_split_long_sentences_and_cover_its_time() {
        let sentence = "word ".repeat(40);
        let cues = sentence_cues(sentence.trim(), 2.0, 10.0);
        assert!(cues.len() > 1);
        assert_eq!(cues[0].start, 2.0);
        assert!((cues.last().unwrap().end - 12.0).abs() < 1e-9);
        assert!(cues.windows(2).all(|w| (w[0].end - w[1].start).abs() < 1e-9));
        assert!(cues.iter().all(|c| c.text.chars().count() <= MAX_CUE_CHARS));
    }

    #[test]
    fn webvtt_is_well_formed() {
        let vtt = webvtt(&[Cue { start: 0.0, end: 61.5, text: "Xin chào".into() }]);
        assert_eq!(vtt, "WEBVTT\n\n1\n00:00:00.000 --> 00:01:01.500\nXin chào\n\n");
    }
}
