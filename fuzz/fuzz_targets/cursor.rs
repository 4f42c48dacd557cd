#![no_main]
//! See `whatif_fuzz::cursors` (fuzz/src/lib.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| whatif_fuzz::cursors::check(data));
