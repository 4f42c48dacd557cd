//! Property tests of the sharing parsers that take outside input: share ids
//! (a path segment), the QR route's `format` and `size`, and the QR renderer.
//! The `share_qr` fuzz target checks the same promises (docs/testing.md).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use proptest::prelude::*;

use crate::qr::{self, DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, QrError, QrFormat};
use crate::qr_image::params;
use crate::share::{RANDOM_LEN, ShareId};
use whatif_shared::ScenarioId;

fn url_safe(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The greyscale pixels of a PNG, with its side.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_id_of_16_bytes_parses_to_itself(bytes in any::<[u8; 16]>()) {
        let raw = URL_SAFE_NO_PAD.encode(bytes);
        let id = ShareId::parse(&raw);
        prop_assert_eq!(id.as_ref().map(ShareId::as_str), Some(raw.as_str()));
    }

    #[test]
    fn an_id_that_parses_is_22_url_safe_characters_that_encode_themselves_then_maybe_a_scenario_id(
        raw in prop_oneof![
            "[A-Za-z0-9_-]{20,24}",
            "[A-Za-z0-9_+/=-]{22}",
            "[A-Za-z0-9_-]{21}[AQgw][0-9A-Za-z]{24,27}",
            ".{0,50}",
        ],
    ) {
        if let Some(id) = ShareId::parse(&raw) {
            prop_assert_eq!(id.as_str(), raw.as_str());
            prop_assert!(url_safe(&raw), "{}", raw);
            let (random, scenario) = raw.split_at(RANDOM_LEN);
            let bytes = URL_SAFE_NO_PAD.decode(random).unwrap();
            prop_assert_eq!(bytes.len(), 16);
            prop_assert_eq!(URL_SAFE_NO_PAD.encode(bytes), random);
            match id.scenario() {
                Some(named) => prop_assert_eq!(ScenarioId::parse(scenario).ok(), Some(named)),
                None => prop_assert!(scenario.is_empty()),
            }
        } else {
            // Refused: not the shape, not the canonical encoding of 16 bytes,
            // or followed by something that is not a scenario id as we write it.
            let canonical = |r: &str| {
                URL_SAFE_NO_PAD.decode(r).ok().filter(|b| b.len() == 16).map(|b| URL_SAFE_NO_PAD.encode(b)).as_deref()
                    == Some(r)
            };
            let issued = match raw.split_at_checked(RANDOM_LEN) {
                Some((random, "")) => canonical(random),
                Some((random, scenario)) => {
                    canonical(random) && ScenarioId::parse(scenario).is_ok_and(|id| id.as_str() == scenario)
                }
                None => false,
            };
            prop_assert!(!issued, "{} was refused", raw);
        }
    }

    #[test]
    fn generated_ids_round_trip(_n in 0..64u8) {
        let scenario = ScenarioId::from(ulid::Ulid::new());
        let id = ShareId::generate(&scenario);
        prop_assert_eq!(id.scenario(), Some(scenario));
        prop_assert_eq!(ShareId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn qr_sizes_are_taken_exactly_from_128_to_1024(size in prop_oneof![0u64..2048, any::<u64>()]) {
        let raw = size.to_string();
        match params(None, Some(&raw)) {
            Ok((format, pixels)) => {
                prop_assert!((u64::from(MIN_SIZE)..=u64::from(MAX_SIZE)).contains(&size), "{} taken", size);
                prop_assert_eq!((format, u64::from(pixels)), (QrFormat::Png, size));
            }
            Err(err) => {
                prop_assert!(!(u64::from(MIN_SIZE)..=u64::from(MAX_SIZE)).contains(&size), "{} refused", size);
                prop_assert_eq!((err.status, err.errors[0].field.as_str()), (StatusCode::BAD_REQUEST, "size"));
            }
        }
    }

    #[test]
    fn qr_parameters_as_they_come_are_png_svg_and_a_size_in_range_or_a_400(
        format in prop::option::of(prop_oneof![Just(String::new()), Just("png".to_string()), Just("svg".to_string()), ".{0,6}"]),
        size in prop::option::of(prop_oneof![Just(String::new()), "[0-9]{1,5}", ".{0,6}"]),
    ) {
        let expected_format = match format.as_deref() {
            None | Some("") | Some("png") => Some(QrFormat::Png),
            Some("svg") => Some(QrFormat::Svg),
            Some(_) => None,
        };
        match params(format.as_deref(), size.as_deref()) {
            Ok((parsed, pixels)) => {
                prop_assert_eq!(Some(parsed), expected_format);
                prop_assert!((MIN_SIZE..=MAX_SIZE).contains(&pixels));
                match size.as_deref() {
                    None | Some("") => prop_assert_eq!(pixels, DEFAULT_SIZE),
                    Some(raw) => prop_assert_eq!(raw.parse::<u32>(), Ok(pixels)),
                }
            }
            Err(err) => {
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
                let field = err.errors[0].field.as_str();
                // The format is checked first; a good format means the size was wrong.
                prop_assert_eq!(field, if expected_format.is_none() { "format" } else { "size" });
                prop_assert!(err.message.starts_with(field));
            }
        }
    }
}

proptest! {
    // Each case draws up to two images: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_text_and_size_is_a_code_of_that_size_or_too_long(text in ".{0,120}", size in prop_oneof![0u32..1100, any::<u32>()]) {
        let side = size.clamp(MIN_SIZE, MAX_SIZE);
        match qr::render(&text, QrFormat::Png, size) {
            Ok(png) => {
                let (width, height, pixels) = decode_png(&png);
                prop_assert_eq!((width, height), (side, side));
                prop_assert!(pixels.iter().all(|p| *p == 0 || *p == 255));
            }
            Err(err) => prop_assert_eq!(err, QrError::TooLong),
        }
        match qr::render(&text, QrFormat::Svg, size) {
            Ok(svg) => {
                let svg = String::from_utf8(svg).unwrap();
                let doc = roxmltree::Document::parse(&svg).unwrap();
                let width = side.to_string();
                prop_assert_eq!(doc.root_element().attribute("width"), Some(width.as_str()));
            }
            Err(err) => prop_assert_eq!(err, QrError::TooLong),
        }
    }

    #[test]
    fn a_short_text_reads_back_from_its_png(text in "[ -~]{1,40}") {
        let png = qr::render(&text, QrFormat::Png, 256).unwrap();
        let (width, height, pixels) = decode_png(&png);
        let (w, h) = (width as usize, height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
        let grids = image.detect_grids();
        prop_assert_eq!(grids.len(), 1);
        let (_, read) = grids[0].decode().unwrap();
        prop_assert_eq!(read, text);
    }
}
