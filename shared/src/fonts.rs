//! The fonts the product renders with, embedded in the binary (see
//! `fonts/README.md`): Noto Sans Regular 2.004 (SIL Open Font License 1.1), a
//! TrueType font that covers Latin with Vietnamese, Greek and Cyrillic.

/// The TrueType file of Noto Sans Regular.
pub const NOTO_SANS_REGULAR: &[u8] = include_bytes!("../fonts/NotoSans-Regular.ttf");
/// Its file name (inside an EPUB, on disk for ffmpeg).
pub const NOTO_SANS_REGULAR_FILE: &str = "NotoSans-Regular.ttf";
