//! Structured logs: one JSON object per line (CloudWatch-friendly), with the
//! request id of the current request on every line. `RUST_LOG` filters.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;

static JSON: AtomicBool = AtomicBool::new(false);

/// Whether the installed subscriber writes JSON lines (as in Lambda).
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Installs the global subscriber once; later calls do nothing.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = if json {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).without_time().try_init()
    } else {
        builder.compact().try_init()
    };
    // Already installed (tests, or a second init): keep the first.
    if result.is_ok() {
        JSON.store(json, Ordering::Relaxed);
    }
}
