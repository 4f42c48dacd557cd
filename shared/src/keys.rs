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

/// An account: `USER#<id>` / `PROFILE`. Access: get by id.
pub fn user_profile(user_id: &str) -> Key {
    Key::new(format!("USER#{user_id}"), "PROFILE")
}

/// Uniqueness of an email (lower-cased): `EMAIL#<email>` / `CLAIM` → userId.
/// Access: conditional put when an account takes the address; get to sign in by email.
pub fn email_claim(email_key: &str) -> Key {
    Key::new(format!("EMAIL#{email_key}"), "CLAIM")
}

/// Uniqueness of a username (lower-cased): `UNAME#<name>` / `CLAIM` → userId.
pub fn username_claim(username_key: &str) -> Key {
    Key::new(format!("UNAME#{username_key}"), "CLAIM")
}

/// A link from an OpenID Connect identity: `OIDC#<provider>#<sub>` / `CLAIM` → userId.
pub fn oidc_claim(provider: &str, subject: &str) -> Key {
    Key::new(format!("OIDC#{provider}#{subject}"), "CLAIM")
}

/// A session (a refresh-token family): `USER#<id>` / `SESSION#<family>`.
/// Access: query `SESSION#` to revoke them all.
pub fn session(user_id: &str, family: &str) -> Key {
    Key::new(format!("USER#{user_id}"), format!("SESSION#{family}"))
}

/// The prefix of every session of an account.
pub const SESSION_PREFIX: &str = "SESSION#";

/// A refresh token, by the SHA-256 of its value: `REFRESH#<hash>` / `REFRESH`.
pub fn refresh_token(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

/// A single-use email token (verification, reset), by hash: `OTT#<hash>` / `OTT` (TTL).
pub fn one_time_token(hash: &str) -> Key {
    Key::new(format!("OTT#{hash}"), "OTT")
}

/// A job: `JOB#<id>` / `JOB`, with GSI1 `USER#<owner>` / `JOB#<createdAt>#<id>`.
/// Access: get by id (owner checked); the owner's jobs, newest first, on GSI1.
pub fn job(job_id: &str) -> Key {
    Key::new(format!("JOB#{job_id}"), "JOB")
}

/// The GSI1 key of a job, listing an owner's jobs by time.
pub fn job_by_owner(user_id: &str, created_at: &str, job_id: &str) -> (String, String) {
    (format!("USER#{user_id}"), format!("JOB#{created_at}#{job_id}"))
}
