//! Who is calling: the principal a bearer token proves, and the levels a
//! route can ask for.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    /// The role's name as stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[default]
    Free,
    Premium,
}

/// A verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub plan: Plan,
    /// The session the token belongs to.
    pub session: Option<String>,
}

impl Principal {
    /// The caller's id, typed for the store and the keys (a verified token's subject).
    pub fn id(&self) -> UserId {
        UserId::from_trusted(self.user_id.clone())
    }
}

/// The auth level a route asks for (API.md's **none** .. **admin**).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthLevel {
    /// No token needed; one that is sent is ignored.
    None,
    /// Works anonymously; a valid token makes the caller known, a bad one is 401.
    Optional,
    User,
    Moderator,
    Admin,
}

impl AuthLevel {
    /// API.md's name for it (also its JSON form).
    pub const fn name(self) -> &'static str {
        match self {
            AuthLevel::None => "none",
            AuthLevel::Optional => "optional",
            AuthLevel::User => "user",
            AuthLevel::Moderator => "moderator",
            AuthLevel::Admin => "admin",
        }
    }

    /// The least role that passes, for levels that need a caller.
    pub fn min_role(self) -> Option<Role> {
        match self {
            AuthLevel::None | AuthLevel::Optional => None,
            AuthLevel::User => Some(Role::User),
            AuthLevel::Moderator => Some(Role::Moderator),
            AuthLevel::Admin => Some(Role::Admin),
        }
    }
}
