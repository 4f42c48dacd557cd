#![no_main]
//! See `whatif_fuzz::model` (fuzz/src/lib.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| whatif_fuzz::model::check(data));
