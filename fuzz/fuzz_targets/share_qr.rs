#![no_main]
//! See `whatif_fuzz::sharing` (fuzz/src/lib.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| whatif_fuzz::sharing::check(data));
