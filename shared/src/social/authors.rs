//! What others see of an account next to its content: its card. An account
//! whose profile is not public (`preferences.publicProfile` off), or that is
//! suspended, banned or deleted, shows no name, username or avatar anywhere,
//! only its id.
//!
//! Two things keep a copy of what a card shows: the profile search items
//! and the account's leaderboard rows. Every transaction that changes a
//! profile or an account's status carries [`ops`], which rewrites both, so
//! a name hidden or an account banned leaves them in the same commit.

use std::collections::HashMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::accounts::user::{AccountStatus, User};
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{Key, TxOp};
use crate::social::{search, stats};

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
    from_shown(ctx, &user.id, &shown(user)).await
}

/// What `user`'s card shows, as its copies store it: `username`, `name` and
/// `avatarKey` while the profile is public and the account active, `{}`
/// otherwise.
pub fn shown(user: &User) -> Value {
    let mut shown = Map::new();
    if user.preferences.public_profile && user.status == AccountStatus::Active {
        for (attr, value) in
            [("username", &user.username), ("name", &user.public_name()), ("avatarKey", &user.avatar_key)]
        {
            if let Some(value) = value {
                shown.insert(attr.into(), json!(value));
            }
        }
    }
    Value::Object(shown)
}

/// The card of the account `id` from what [`shown`] stored (its avatar
/// link signed now).
pub async fn from_shown(ctx: &AppContext, id: &str, shown: &Value) -> ApiResult<Author> {
    let text = |attr: &str| shown.get(attr).and_then(Value::as_str).map(str::to_string);
    let avatar_url = match text("avatarKey") {
        Some(key) => Some(ctx.blobs.presign_get(&key, Duration::from_secs(3600), None).await?.url),
        None => None,
    };
    Ok(Author { id: id.to_string(), username: text("username"), name: text("name"), avatar_url })
}

/// The operations that keep the copies of `user`'s card in step with a
/// change from `before` to `after` (either absent: an account being made,
/// one being purged): its search items, and the card on its leaderboard
/// rows when what it shows changed (a purge removes the rows with the rest).
pub fn ops(before: Option<&User>, after: Option<&User>) -> Vec<TxOp> {
    let mut ops = search::index_ops(before, after);
    if let Some(after) = after {
        let now = shown(after);
        if before.map(shown).as_ref() != Some(&now) {
            ops.extend(stats::card_ops(&UserId::from_trusted(after.id.clone()), now));
        }
    }
    ops
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
