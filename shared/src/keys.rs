//! The one module that builds table keys. Every item's key shape, and the
//! access pattern it serves, is listed here and in `docs/data-model.md`.

use crate::ports::table::Key;

/// A rate-limit window: `RL#<class>#<subject>` / `<window start>` (TTL'd).
/// Access: one atomic ADD per request.
pub fn rate_window(class: &str, subject: &str, window_start: i64) -> Key {
    Key::new(format!("RL#{class}#{subject}"), format!("{window_start:020}"))
}

/// An idempotency record: `IDEM#<subject>#<route>#<key>` / `IDEM` (TTL 24 h).
/// Access: conditional put to claim, get to replay.
pub fn idempotency(subject: &str, route: &str, key: &str) -> Key {
    Key::new(format!("IDEM#{subject}#{route}#{key}"), "IDEM")
}

/// The public keys that verify access tokens: `CONFIG` / `JWKS`.
/// Written by the auth functions when keys rotate; read (and cached) by every function.
pub fn public_jwks() -> Key {
    Key::new("CONFIG", "JWKS")
}

/// An account's status, read on every authenticated request: `USER#<id>` / `STATUS`.
/// Small on purpose (status, role, plan, tokensValidAfter), so the check stays cheap.
pub fn account_status(user_id: &str) -> Key {
    Key::new(format!("USER#{user_id}"), "STATUS")
}
