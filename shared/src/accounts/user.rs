//! The account as stored (`USER#<id>` / `PROFILE`) and as shown to its owner.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::{Plan, Role};
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{GSI2_PK, GSI2_SK, Item, PK, SK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Suspended,
    Banned,
    Deleted,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Banned => "banned",
            AccountStatus::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub theme: Theme,
    /// BCP 47 language tag, e.g. `en` or `vi`.
    #[schemars(length(min = 2, max = 35), regex(pattern = "^[A-Za-z0-9]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    pub language: String,
    pub notifications: bool,
    /// Whether others see who the account is: its display name on its shared
    /// scenarios, and (with the social layer) its profile page. On unless the
    /// owner turns it off.
    #[serde(default = "public_by_default")]
    pub public_profile: bool,
}

fn public_by_default() -> bool {
    true
}

impl Default for Preferences {
    fn default() -> Self {
        Self { theme: Theme::Light, language: "en".into(), notifications: true, public_profile: true }
    }
}

/// The stored account. Never sent as is: `view` is what its owner sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_key: Option<String>,
    pub preferences: Preferences,
    pub role: Role,
    pub plan: Plan,
    pub status: AccountStatus,
    /// When a suspension ends (epoch seconds); past it the account is active again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<i64>,
    /// None for accounts made by OpenID Connect sign-in alone.
    pub password_hash: Option<String>,
    pub failed_logins: u32,
    /// Epoch seconds until which password sign-in is locked.
    pub locked_until: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    /// Linked OpenID Connect identities, as `provider#subject` (their claims are released on deletion).
    #[serde(default)]
    pub oidc_links: Vec<String>,
}

/// What the owner sees of their account (`{user}` in API.md).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub preferences: Preferences,
    pub role: Role,
    pub plan: Plan,
    pub created_at: String,
}

impl User {
    /// The name others see, when the owner's profile is public: the display
    /// name, else first and last name, else the username.
    pub fn public_name(&self) -> Option<String> {
        if self.preferences.public_profile { self.shown_name() } else { None }
    }

    fn shown_name(&self) -> Option<String> {
        self.full_name().or_else(|| self.username.clone())
    }

    /// The display name, else first and last name (none when neither is set).
    pub fn full_name(&self) -> Option<String> {
        self.display_name.clone().or_else(|| {
            let full = [self.first_name.as_deref(), self.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!full.is_empty()).then_some(full)
        })
    }

    pub fn view(&self, avatar_url: Option<String>) -> UserView {
        let display_name = self.shown_name();
        UserView {
            id: self.id.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified,
            username: self.username.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name,
            bio: self.bio.clone(),
            avatar_url,
            preferences: self.preferences.clone(),
            role: self.role,
            plan: self.plan,
            created_at: self.created_at.clone(),
        }
    }

    pub fn to_item(&self) -> ApiResult<Item> {
        let key = keys::user_profile(&UserId::from_trusted(&self.id));
        let mut item = match serde_json::to_value(self).map_err(ApiError::internal)? {
            serde_json::Value::Object(map) => map,
            _ => return Err(ApiError::internal("a user is an object")),
        };
        item.insert(PK.into(), key.pk.into());
        item.insert(SK.into(), key.sk.into());
        let (dir_pk, dir_sk) = keys::user_directory(&UserId::from_trusted(&self.id), &self.created_at);
        item.insert(GSI2_PK.into(), dir_pk.into());
        item.insert(GSI2_SK.into(), dir_sk.into());
        Ok(item)
    }

    /// The status in effect at `now` (epoch seconds): a suspension that has
    /// ended is active again.
    pub fn status_at(&self, now: i64) -> AccountStatus {
        match (self.status, self.suspended_until) {
            (AccountStatus::Suspended, Some(until)) if until <= now => AccountStatus::Active,
            (status, _) => status,
        }
    }

    pub fn from_item(item: Item) -> ApiResult<Self> {
        serde_json::from_value(serde_json::Value::Object(item))
            .map_err(|e| ApiError::internal(format!("bad user item: {e}")))
    }

    /// The small item every authenticated request reads (`keys::account_status`).
    pub fn status_item(&self, tokens_valid_after: i64) -> Item {
        let key = keys::account_status(&UserId::from_trusted(&self.id));
        let mut item = Item::new();
        item.insert(PK.into(), key.pk.into());
        item.insert(SK.into(), key.sk.into());
        item.insert("status".into(), self.status.as_str().into());
        item.insert("role".into(), serde_json::to_value(self.role).unwrap_or_default());
        item.insert("plan".into(), serde_json::to_value(self.plan).unwrap_or_default());
        item.insert("tokensValidAfter".into(), tokens_valid_after.into());
        if let Some(until) = self.suspended_until {
            item.insert("suspendedUntil".into(), until.into());
        }
        item
    }
}
