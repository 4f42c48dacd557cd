//! Account values that can only hold valid data (parse, don't validate).

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// What [`Email::parse`] takes, for the OpenAPI document (beyond it: a local
/// part of at most 64 and labels of at most 63 characters, 254 in all).
pub const EMAIL_PATTERN: &str = "^ *[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+ *$";

/// What [`Username::parse`] takes, for the OpenAPI document.
pub const USERNAME_PATTERN: &str = "^ *[A-Za-z0-9][A-Za-z0-9_.-]{2,29} *$";

/// A normalised email address: trimmed of spaces, domain lower-cased, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> ApiResult<Self> {
        let raw = raw.trim_matches(' ');
        let bad = || ApiError::validation(field, "is not a valid email address");
        let (local, domain) = raw.rsplit_once('@').ok_or_else(bad)?;
        let domain = domain.to_ascii_lowercase();
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let email = format!("{local}@{domain}");
        if !local_ok || !domain_ok || email.len() > 254 {
            return Err(bad());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that makes addresses unique: the whole address lower-cased.
    pub fn claim_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A password: 8–128 characters, not all of one class (letters, digits, other).
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, raw: &str) -> ApiResult<Self> {
        let count = raw.chars().count();
        if !(8..=128).contains(&count) {
            return Err(ApiError::validation(field, "must be 8 to 128 characters"));
        }
        let classes = [
            raw.chars().any(|c| c.is_alphabetic()),
            raw.chars().any(|c| c.is_numeric()),
            raw.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < 2 {
            return Err(ApiError::validation(field, "must mix at least two of letters, digits and symbols"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A username: 3–30 of `[A-Za-z0-9_.-]`, starting with a letter or digit;
/// unique without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> ApiResult<Self> {
        let raw = raw.trim_matches(' ');
        let ok = (3..=30).contains(&raw.len())
            && raw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return Err(ApiError::validation(field, "must be 3 to 30 letters, digits, '_', '.' or '-'"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn claim_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A short free text (names, bio): trimmed, no control characters, bounded.
pub fn text(field: &str, raw: &str, max_chars: usize) -> ApiResult<String> {
    let value = raw.trim();
    if value.chars().count() > max_chars {
        return Err(ApiError::validation(field, format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::validation(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("email", "  Ann.Lee@Example.COM ").unwrap().as_str(), "Ann.Lee@example.com");
        assert_eq!(Email::parse("email", "Ann@Example.com").unwrap().claim_key(), "ann@example.com");
        for bad in ["", "a", "a@b", "@b.c", "a@b..c", "a b@c.d", "a@-b.c", ".a@b.c", "a\nb@c.d", "a@b\n.c"] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_need_length_and_two_classes() {
        assert!(Password::parse("password", "correct horse 1").is_ok());
        assert!(Password::parse("password", "Tr0ub4dor").is_ok());
        for bad in ["short1!", "allletterslong", "1234567890", &"a1".repeat(65)] {
            assert!(Password::parse("password", bad).is_err(), "{bad:?}");
        }
        assert_eq!(format!("{:?}", Password::parse("p", "secret-pass1").unwrap()), "Password(..)");
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("username", "Ann_Lee").unwrap().claim_key(), "ann_lee");
        for bad in ["ab", "_ann", "ann lee", "ánn", &"a".repeat(31)] {
            assert!(Username::parse("username", bad).is_err(), "{bad:?}");
        }
    }
}
