//! The history crate's own tests in one binary.

mod export_formats;
mod lifecycle;
