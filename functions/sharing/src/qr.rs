//! QR codes of a share's full URL, as PNG or SVG.
//!
//! `qrcode` computes the symbol (error correction level Q: a quarter of the
//! codewords can be lost, enough for a printed code with a scratch or a stain);
//! we draw its modules ourselves, because both outputs are simple and must be
//! exact: every module a whole number of pixels, black on white, no
//! anti-aliasing, with the 4-module quiet zone the standard asks for.
//!
//! - PNG: 8-bit greyscale, exactly `size`×`size`. The module size is the
//!   largest whole number of pixels that fits the symbol and its quiet zone;
//!   the pixels left over widen the margin, split evenly on both sides (the
//!   odd one to the right and bottom), so the symbol stays centred and sharp.
//! - SVG: a `viewBox` in modules (quiet zone included), `width`/`height` of
//!   `size`, `shape-rendering="crispEdges"`, a white background and one path
//!   of the dark modules, each horizontal run one rectangle.
//!
//! Both are deterministic (the same text and size give the same bytes), so a
//! hash of the output can serve as its ETag. The PNG's bytes are so within one
//! build: flate2's backend (zlib-rs in the deployed binary, miniz_oxide in this
//! crate built alone) compresses differently, to the same pixels.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

/// The smallest and largest sizes served, in pixels, and the default.
/// The drawing's version: part of every QR answer's `ETag`, so a change of
/// how codes are drawn reaches caches that revalidate.
pub const VERSION: &str = "1";

pub const MIN_SIZE: u32 = 128;
pub const MAX_SIZE: u32 = 1024;
pub const DEFAULT_SIZE: u32 = 512;

/// Light modules around the symbol on every side (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;

/// The two formats a QR code is served in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrFormat {
    Png,
    Svg,
}

impl QrFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            QrFormat::Png => "image/png",
            QrFormat::Svg => "image/svg+xml",
        }
    }

    /// `png` or `svg`, exactly (the `format` query parameter).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "png" => Some(QrFormat::Png),
            "svg" => Some(QrFormat::Svg),
            _ => None,
        }
    }
}

/// Why no QR code was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// More than a QR code holds at level Q (1,663 bytes of a URL), or, for a
    /// PNG, a symbol with more modules than `size` has pixels.
    #[error("the text is too long for a QR code")]
    TooLong,
    /// Any other failure of the encoder or the PNG writer (a fault on our side).
    #[error("the QR code does not encode: {0}")]
    Encode(String),
}

/// The QR code of `text` as `format`, `size` pixels square (MIN_SIZE..=MAX_SIZE;
/// the caller validates, but it is clamped here too).
pub fn render(text: &str, format: QrFormat, size: u32) -> Result<Vec<u8>, QrError> {
    let size = size.clamp(MIN_SIZE, MAX_SIZE);
    let symbol = Symbol::encode(text)?;
    match format {
        QrFormat::Png => symbol.png(size),
        QrFormat::Svg => Ok(symbol.svg(size).into_bytes()),
    }
}

/// The modules of a symbol, row by row, without the quiet zone.
struct Symbol {
    /// Modules per side.
    width: usize,
    /// `true` for a dark module.
    dark: Vec<bool>,
}

impl Symbol {
    fn encode(text: &str) -> Result<Self, QrError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).map_err(|e| match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong,
            other => QrError::Encode(other.to_string()),
        })?;
        let width = code.width();
        let dark = code.into_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Self { width, dark })
    }

    fn row(&self, y: usize) -> &[bool] {
        &self.dark[y * self.width..(y + 1) * self.width]
    }

    /// Modules per side with the quiet zone.
    fn outer_width(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Black on white, 8-bit greyscale, `size`×`size`.
    fn png(&self, size: u32) -> Result<Vec<u8>, QrError> {
        let side = size as usize;
        // Whole pixels per module; a symbol that needs less than one cannot be drawn legibly.
        let scale = side / self.outer_width();
        if scale == 0 {
            return Err(QrError::TooLong);
        }
        let offset = (side - self.width * scale) / 2;
        let mut pixels = vec![255u8; side * side];
        for y in 0..self.width {
            // One pixel row of this module row, then copied down `scale` times.
            let top = (offset + y * scale) * side;
            for (x, _) in self.row(y).iter().enumerate().filter(|(_, dark)| **dark) {
                let left = top + offset + x * scale;
                pixels[left..left + scale].fill(0);
            }
            for copy in 1..scale {
                pixels.copy_within(top..top + side, top + copy * side);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        // Long runs of two values: the best compression is cheap here (see `whatif-bench sharing`).
        encoder.set_compression(png::Compression::High);
        let encoded = encoder.write_header().and_then(|mut writer| {
            writer.write_image_data(&pixels)?;
            writer.finish()
        });
        encoded.map_err(|e| QrError::Encode(e.to_string()))?;
        Ok(out)
    }

    /// A square SVG `size` wide whose user units are modules.
    fn svg(&self, size: u32) -> String {
        let outer = self.outer_width();
        let mut svg = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
             width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {outer} {outer}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{outer}\" height=\"{outer}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
        );
        for y in 0..self.width {
            let row = self.row(y);
            let mut x = 0;
            while x < self.width {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let run = row[x..].iter().take_while(|dark| **dark).count();
                // A run of dark modules: move to its top left corner, a rectangle one module high.
                let _ = write!(svg, "M{} {}h{run}v1h-{run}z", x + QUIET_ZONE, y + QUIET_ZONE);
                x += run;
            }
        }
        svg.push_str("\"/></svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A share URL as the API makes them: the public origin and a 22-character id.
    const URL: &str = "https://whatif.example.com/s/AbCdEfGhIjKlMnOpQrStUv";

    /// The greyscale pixels of a PNG, with its width and height.
    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        pixels.truncate(info.buffer_size());
        (info.width, info.height, pixels)
    }

    /// What a real QR reader finds in greyscale pixels.
    fn read_qr(width: u32, height: u32, pixels: &[u8]) -> Result<String, String> {
        let (w, h) = (width as usize, height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
        let grids = image.detect_grids();
        let grid = grids.first().ok_or("no QR code found")?;
        grid.decode().map(|(_, text)| text).map_err(|e| e.to_string())
    }

    #[test]
    fn the_png_reads_back_to_the_url_at_every_size() {
        for size in [MIN_SIZE, DEFAULT_SIZE, MAX_SIZE] {
            let png = render(URL, QrFormat::Png, size).unwrap();
            let (width, height, pixels) = decode_png(&png);
            assert_eq!((width, height), (size, size));
            assert_eq!(read_qr(width, height, &pixels).as_deref(), Ok(URL), "at {size} px");
        }
    }

    #[test]
    fn the_png_is_sharp_centred_and_sized_exactly() {
        let symbol = Symbol::encode(URL).unwrap();
        for size in [MIN_SIZE, 200, 333, DEFAULT_SIZE, MAX_SIZE] {
            let (width, height, pixels) = decode_png(&render(URL, QrFormat::Png, size).unwrap());
            assert_eq!((width, height), (size, size));
            // Black and white only: no anti-aliased edge.
            assert!(pixels.iter().all(|p| *p == 0 || *p == 255), "grey pixels at {size}");
            // The symbol's dark bounding box, centred, its margins at least the quiet zone.
            let side = size as usize;
            let dark: Vec<(usize, usize)> =
                (0..side * side).filter(|i| pixels[*i] == 0).map(|i| (i % side, i / side)).collect();
            let left = dark.iter().map(|p| p.0).min().unwrap();
            let right = side - 1 - dark.iter().map(|p| p.0).max().unwrap();
            let top = dark.iter().map(|p| p.1).min().unwrap();
            let bottom = side - 1 - dark.iter().map(|p| p.1).max().unwrap();
            let scale = side / symbol.outer_width();
            assert!(left >= QUIET_ZONE * scale && top >= QUIET_ZONE * scale, "at {size}");
            assert!(right == left || right == left + 1, "{left} and {right} at {size}");
            assert!(bottom == top || bottom == top + 1, "{top} and {bottom} at {size}");
            assert_eq!(side - left - right, symbol.width * scale);
        }
    }

    #[test]
    fn a_blot_over_a_tenth_of_the_symbol_still_reads_at_level_q() {
        let size = DEFAULT_SIZE as usize;
        let symbol = Symbol::encode(URL).unwrap();
        // Versions 2 to 6 have one alignment pattern, its centre 7 modules in from the bottom right.
        assert!((25..=41).contains(&symbol.width), "version {}", (symbol.width - 17) / 4);
        let scale = size / symbol.outer_width();
        let offset = (size - symbol.width * scale) / 2;
        // A square of ink over a tenth of the symbol on its bottom edge, in the
        // bottom right quadrant, clear of the finder patterns and of the
        // alignment pattern just right of it (rqrr, a port of quirc, needs the
        // alignment pattern to find the grid; phone readers guess where it is).
        let blot = ((symbol.width * symbol.width) as f64 * 0.1).sqrt().round() as usize;
        let area = (blot * blot) as f64 / (symbol.width * symbol.width) as f64;
        assert!((0.09..=0.12).contains(&area), "{area}");
        let (left, top) = (symbol.width - 9 - blot, symbol.width - 1 - blot);
        assert!(left > 8, "the blot reaches the bottom left finder");
        let (width, height, mut pixels) = decode_png(&render(URL, QrFormat::Png, DEFAULT_SIZE).unwrap());
        for y in offset + top * scale..offset + (top + blot) * scale {
            let row = y * size + offset;
            pixels[row + left * scale..row + (left + blot) * scale].fill(0);
        }
        assert_eq!(read_qr(width, height, &pixels).as_deref(), Ok(URL));
        // The blot did damage the symbol: a third of the modules under it were light.
        let changed = (top..top + blot).flat_map(|y| symbol.row(y)[left..left + blot].iter()).filter(|d| !**d).count();
        assert!(changed > blot * blot / 3, "{changed} modules changed");
    }

    #[test]
    fn the_svg_is_well_formed_and_measured_in_modules() {
        let symbol = Symbol::encode(URL).unwrap();
        let svg = String::from_utf8(render(URL, QrFormat::Svg, DEFAULT_SIZE).unwrap()).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
        let outer = symbol.width + 8;
        assert_eq!(root.attribute("viewBox"), Some(format!("0 0 {outer} {outer}").as_str()));
        assert_eq!(root.attribute("width"), Some("512"));
        assert_eq!(root.attribute("height"), Some("512"));
        assert_eq!(root.attribute("shape-rendering"), Some("crispEdges"));
        let children: Vec<_> = root.children().filter(|n| n.is_element()).collect();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].tag_name().name(), "rect");
        assert_eq!(children[0].attribute("fill"), Some("#fff"));
        assert_eq!(children[1].tag_name().name(), "path");
        assert_eq!(children[1].attribute("fill"), Some("#000"));
    }

    #[test]
    fn the_svg_path_draws_exactly_the_dark_modules() {
        let symbol = Symbol::encode(URL).unwrap();
        let svg = symbol.svg(DEFAULT_SIZE);
        let d = svg.split(" d=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap();
        // Paint every run back onto a grid of modules.
        let outer = symbol.outer_width();
        let mut painted = vec![false; outer * outer];
        for run in d.split('z').filter(|r| !r.is_empty()) {
            let numbers: Vec<usize> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            let [x, y, len, 1, back] = numbers[..] else { panic!("unexpected run {run:?}") };
            assert_eq!(len, back);
            assert!(len > 0);
            for cell in &mut painted[y * outer + x..y * outer + x + len] {
                assert!(!*cell, "a module drawn twice");
                *cell = true;
            }
        }
        for y in 0..outer {
            for x in 0..outer {
                let inside = (QUIET_ZONE..QUIET_ZONE + symbol.width).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + symbol.width).contains(&y);
                let dark = inside && symbol.row(y - QUIET_ZONE)[x - QUIET_ZONE];
                assert_eq!(painted[y * outer + x], dark, "module {x},{y}");
            }
        }
        // Runs are merged: fewer rectangles than dark modules.
        let (runs, dark) = (d.matches('z').count(), symbol.dark.iter().filter(|d| **d).count());
        assert!(runs < dark * 2 / 3, "{runs} runs of {dark} modules");
    }

    #[test]
    fn too_long_a_text_is_an_error_not_a_panic() {
        let long = "x".repeat(5000);
        for format in [QrFormat::Png, QrFormat::Svg] {
            assert_eq!(render(&long, format, DEFAULT_SIZE), Err(QrError::TooLong));
        }
        // Within the capacity of level Q but more modules than 128 pixels: no PNG at that size.
        let many = "é".repeat(600);
        assert_eq!(render(&many, QrFormat::Png, MIN_SIZE), Err(QrError::TooLong));
        assert!(render(&many, QrFormat::Png, MAX_SIZE).is_ok());
        assert!(render(&many, QrFormat::Svg, MIN_SIZE).is_ok());
    }

    #[test]
    fn sizes_out_of_range_are_clamped() {
        let (w, h, _) = decode_png(&render(URL, QrFormat::Png, 1).unwrap());
        assert_eq!((w, h), (MIN_SIZE, MIN_SIZE));
        let (w, h, _) = decode_png(&render(URL, QrFormat::Png, 100_000).unwrap());
        assert_eq!((w, h), (MAX_SIZE, MAX_SIZE));
        let svg = String::from_utf8(render(URL, QrFormat::Svg, 0).unwrap()).unwrap();
        assert!(svg.contains("width=\"128\" height=\"128\""));
    }

    #[test]
    fn the_output_is_deterministic() {
        for format in [QrFormat::Png, QrFormat::Svg] {
            let first = render(URL, format, DEFAULT_SIZE).unwrap();
            assert_eq!(first, render(URL, format, DEFAULT_SIZE).unwrap());
            assert_ne!(first, render(&format!("{URL}x"), format, DEFAULT_SIZE).unwrap());
        }
    }

    #[test]
    fn formats_parse_exactly_and_name_their_content_type() {
        assert_eq!(QrFormat::parse("png"), Some(QrFormat::Png));
        assert_eq!(QrFormat::parse("svg"), Some(QrFormat::Svg));
        for raw in ["PNG", "Svg", " png", "jpg", ""] {
            assert_eq!(QrFormat::parse(raw), None);
        }
        assert_eq!(QrFormat::Png.content_type(), "image/png");
        assert_eq!(QrFormat::Svg.content_type(), "image/svg+xml");
    }
}
