//! What others see of an account next to its content: its card. An account
//! whose profile is not public (`preferences.publicProfile` off), or that is
//! suspended, banned or deleted, shows no name, username or avatar anywhere,
//! only its id.

use std::collections::HashMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::accounts::user::{AccountStatus, User};
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::Key;

/// An author as others see them (`AuthorCard` in the OpenAPI document:
/// sharing's `Author` is another type).
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "AuthorCard")]
pub struct Author {
    pub id: String,
    /// Absent when the profile is not public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A link valid for an hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

impl Author {
    /// An account nobody may see (private, or gone): its id alone.
    pub fn anonymous(id: &str) -> Self {
        Author { id: id.to_string(), ..Author::default() }
    }

    /// Whether the profile is public (it shows a name or username).
    pub fn is_public(&self) -> bool {
        self.username.is_some() || self.name.is_some()
    }
}

/// The card of `user` as others see it.
pub async fn card(ctx: &AppContext, user: &User) -> ApiResult<Author> {
    if !user.preferences.public_profile || user.status != AccountStatus::Active {
        return Ok(Author::anonymous(&user.id));
    }
    let avatar_url = match &user.avatar_key {
        Some(key) => Some(ctx.blobs.presign_get(key, Duration::from_secs(3600), None).await?.url),
        None => None,
    };
    Ok(Author { id: user.id.clone(), username: user.username.clone(), name: user.public_name(), avatar_url })
}

/// The cards of `ids` (each once), by id; an account that is gone shows as
/// [`Author::anonymous`]. One round trip of batch reads.
pub async fn cards(ctx: &AppContext, ids: &[UserId]) -> ApiResult<HashMap<String, Author>> {
    let mut unique: Vec<&UserId> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    let mut out: HashMap<String, Author> =
        unique.iter().map(|id| (id.to_string(), Author::anonymous(id.as_str()))).collect();
    let keys: Vec<Key> = unique.iter().map(|id| keys::user_profile(id)).collect();
    let users: Vec<User> = crate::ports::table::get_all(ctx.table.as_ref(), &keys)
        .await?
        .into_iter()
        .filter_map(|i| User::from_item(i).ok())
        .collect();
    let made = futures::future::try_join_all(users.iter().map(|u| card(ctx, u))).await?;
    for author in made {
        out.insert(author.id.clone(), author);
    }
    Ok(out)
}
