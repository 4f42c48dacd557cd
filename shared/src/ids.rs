//! Typed ids: a [`UserId`] and a [`ScenarioId`] are different types, so a
//! key (see [`crate::keys`]) cannot be built with the two swapped.
//!
//! Both are ULIDs as the system issues them (26 characters of Crockford
//! base 32, upper case). An id from outside (a path, a body) is checked with
//! `parse` (or made from the [`ulid::Ulid`] a route already parsed); one the
//! system wrote itself (read back from the table, a verified token's
//! subject, a job record) is taken as it is with `from_trusted`. On the wire
//! both are plain strings (`serde(transparent)`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An id from outside that is not a ULID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid id")]
pub struct InvalidId;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// An id from outside: a ULID (any case), kept in its canonical
            /// upper-case form; [`InvalidId`] otherwise.
            pub fn parse(raw: &str) -> Result<Self, InvalidId> {
                ulid::Ulid::from_string(raw).map(Self::from).map_err(|_| InvalidId)
            }

            /// An id the system issued (read from the table, a verified
            /// token, a job record): taken as it is, unchecked.
            pub fn from_trusted(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<ulid::Ulid> for $name {
            fn from(id: ulid::Ulid) -> Self {
                $name(id.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

ulid_id! {
    /// An account's id.
    UserId
}

ulid_id! {
    /// A scenario's id.
    ScenarioId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_outside_must_be_ulids_and_read_canonical() {
        let id = ScenarioId::parse("01jq8z6y4v7r2k3m5n8p9q0rst").unwrap();
        assert_eq!(id.as_str(), "01JQ8Z6Y4V7R2K3M5N8P9Q0RST");
        assert_eq!(ScenarioId::parse("not-a-ulid"), Err(InvalidId));
        assert_eq!(UserId::parse(""), Err(InvalidId));
        assert_eq!(UserId::parse("01JQ8Z6Y4V7R2K3M5N8P9Q0RST").unwrap(), "01JQ8Z6Y4V7R2K3M5N8P9Q0RST");
    }

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id = UserId::from_trusted("01OWNER");
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!("01OWNER"));
        assert_eq!(serde_json::from_value::<UserId>(serde_json::json!("01OWNER")).unwrap(), id);
        assert_eq!(id.to_string(), "01OWNER");
    }
}
