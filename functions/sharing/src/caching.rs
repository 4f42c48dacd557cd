//! Caching of the public share answers (page, card, QR code, metadata).
//!
//! Browsers may keep what they fetched; shared caches (CloudFront) keep an
//! answer at most a minute (`s-maxage=60`) and then revalidate it with its
//! `ETag`, which is computed from the inputs, so a revalidation of an
//! unchanged share costs one read and no rendering (304), and a revoked,
//! paused, expired or hidden share is gone from the edge within a minute.

use http::StatusCode;
use http::header::{CACHE_CONTROL, ETAG};
use sha2::{Digest, Sha256};
use whatif_shared::{ApiRequest, Reply};

/// At most a minute in a shared cache, for everything a share answers.
pub const EDGE_SECONDS: u32 = 60;

/// The strong `ETag` of an answer made from `parts` (with the renderer's
/// version among them, so a new renderer changes it).
pub fn etag(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether the client already holds `etag` (`If-None-Match`, weak or strong, or `*`).
pub fn not_modified(req: &ApiRequest, etag: &str) -> bool {
    let Some(header) = req.header("if-none-match") else { return false };
    header.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag)
}

/// `Cache-Control` for a browser lifetime of `browser_seconds` and a minute at the edge.
pub fn cache_control(browser_seconds: u32) -> String {
    format!("public, max-age={browser_seconds}, s-maxage={}", EDGE_SECONDS.min(browser_seconds))
}

/// `reply` with its `ETag` and `Cache-Control`, or a 304 when the client holds it.
pub fn cached(req: &ApiRequest, etag: &str, browser_seconds: u32, reply: impl FnOnce() -> Reply) -> Reply {
    let base = if not_modified(req, etag) { Reply::bytes(StatusCode::NOT_MODIFIED, "", Vec::new()) } else { reply() };
    base.header(ETAG, etag).header(CACHE_CONTROL, &cache_control(browser_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_every_input_and_match_weak_or_listed() {
        let a = etag(&["x", "y"]);
        assert_ne!(a, etag(&["xy", ""]), "parts are length-prefixed");
        assert_eq!(a, etag(&["x", "y"]));
        let mut req = ApiRequest::new(http::Method::GET, "/");
        assert!(!not_modified(&req, &a));
        req.headers.insert("if-none-match", format!("\"other\", W/{a}").parse().unwrap());
        assert!(not_modified(&req, &a));
        req.headers.insert("if-none-match", "\"other\"".parse().unwrap());
        assert!(!not_modified(&req, &a));
    }
}
