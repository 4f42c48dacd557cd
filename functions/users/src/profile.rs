//! `GET /api/users/profile` and `PUT /api/users/profile` (whitelisted fields only).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::accounts::store::{self, claim_item};
use whatif_shared::accounts::types::{Username, text};
use whatif_shared::accounts::user::{Theme, User, UserView};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::keys;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, TxOp};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::avatar;

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct ProfileAnswer {
    pub user: UserView,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileBody {
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    #[schemars(regex(pattern = whatif_shared::accounts::types::USERNAME_PATTERN))]
    pub username: Option<Option<String>>,
    /// A key from `POST /api/users/avatar-upload-url`, after the upload; the
    /// key of the current avatar keeps it; `null` removes the avatar.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    pub avatar_key: Option<Option<String>>,
    #[serde(default, deserialize_with = "whatif_shared::http::optional_object")]
    pub preferences: Option<PreferencesBody>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesBody {
    pub theme: Option<Theme>,
    /// A BCP 47 tag such as `en`, `vi` or `pt-BR`.
    #[schemars(length(min = 2, max = 35), regex(pattern = "^[A-Za-z0-9]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    pub language: Option<String>,
    pub notifications: Option<bool>,
    /// Whether others see your display name (on your shared scenarios, your profile page).
    pub public_profile: Option<bool>,
}

pub async fn get(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = current(&ctx, &req).await?;
    Ok(Reply::ok(ProfileAnswer { user: avatar::view(&ctx, &user).await? }))
}

pub async fn put(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ProfileBody = req.json()?;
    let mut user = current(&ctx, &req).await?;
    let before = user.clone();
    let mut v = Validation::default();
    set_text(&mut user.first_name, "firstName", &body.first_name, 50, &mut v);
    set_text(&mut user.last_name, "lastName", &body.last_name, 50, &mut v);
    set_text(&mut user.display_name, "displayName", &body.display_name, 80, &mut v);
    set_text(&mut user.bio, "bio", &body.bio, 500, &mut v);
    let new_username = match &body.username {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => v.check(Username::parse("username", raw)).map(Some),
    };
    if let Some(prefs) = &body.preferences {
        if let Some(theme) = prefs.theme {
            user.preferences.theme = theme;
        }
        if let Some(language) = &prefs.language
            && let Some(lang) = v.check(language_tag(language))
        {
            user.preferences.language = lang;
        }
        if let Some(notifications) = prefs.notifications {
            user.preferences.notifications = notifications;
        }
        if let Some(public_profile) = prefs.public_profile {
            user.preferences.public_profile = public_profile;
        }
    }
    // The current avatar's key (or the upload key it was accepted from, which
    // a form may send again) keeps it; a new key must be an upload the
    // profile accepts.
    let mut accepted = None;
    match &body.avatar_key {
        None => {}
        Some(None) => user.avatar_key = None,
        Some(Some(key)) if avatar::is_current(&before, key) => {}
        Some(Some(key)) => {
            if let Some(upload) = v.check(avatar::accept_upload(&ctx, &user.id, key).await) {
                user.avatar_key = Some(upload.key.clone());
                accepted = Some(upload);
            }
        }
    }
    v.finish()?;
    if let Some(username) = &new_username {
        user.username = username.as_ref().map(|u| u.as_str().to_string());
    }
    if user == before {
        return Ok(Reply::ok(ProfileAnswer { user: avatar::view(&ctx, &user).await? }));
    }
    user.updated_at = rfc3339(ctx.clock.now());
    user.version += 1;
    // The avatar is stored before the profile names it, and its upload deleted
    // only once the profile does: a refused save leaves the upload to retry with.
    if let Some(upload) = &accepted {
        avatar::keep(&ctx, upload).await?;
    }
    if let Err(e) = save(&ctx, &before, &user).await {
        if let Some(upload) = &accepted {
            avatar::discard(&ctx, &upload.key).await;
        }
        return Err(e);
    }
    if let Some(upload) = &accepted {
        avatar::discard(&ctx, &upload.upload_key).await;
    }
    if let Some(old) = &before.avatar_key
        && before.avatar_key != user.avatar_key
    {
        avatar::discard(&ctx, old).await;
    }
    Ok(Reply::ok(ProfileAnswer { user: avatar::view(&ctx, &user).await? }).message("Profile updated"))
}

/// Writes the changed account; a username change moves its claim in the same
/// transaction. A concurrent change (another version) is 409, never lost.
async fn save(ctx: &AppContext, before: &User, after: &User) -> ApiResult<()> {
    let mut ops = vec![TxOp::Put { item: after.to_item()?, cond: Some(Cond::eq("version", before.version)) }];
    let old_key = before.username.as_deref().map(str::to_ascii_lowercase);
    let new_key = after.username.as_deref().map(str::to_ascii_lowercase);
    let claims_username = old_key != new_key && new_key.is_some();
    if old_key != new_key {
        if let Some(new_key) = &new_key {
            ops.push(TxOp::Put {
                item: claim_item(keys::username_claim(new_key), &after.id),
                cond: Some(Cond::NotExists),
            });
        }
        if let Some(old_key) = &old_key {
            ops.push(TxOp::Delete {
                key: keys::username_claim(old_key),
                cond: Some(Cond::eq("userId", after.id.as_str())),
            });
        }
    }
    ops.extend(whatif_shared::social::authors::ops(Some(before), Some(after)));
    match ctx.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            Err(ApiError::conflict("VERSION_CONFLICT", "The profile changed meanwhile; reload and try again"))
        }
        Err(StoreError::TransactionCanceled { failed }) if claims_username && failed.contains(&1) => {
            Err(ApiError::conflict("USERNAME_TAKEN", "This username is taken").with_field("username", "is taken"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Applies an optional text change (`null` or "" clears it).
fn set_text(target: &mut Option<String>, field: &str, value: &Option<Option<String>>, max: usize, v: &mut Validation) {
    match value {
        None => {}
        Some(None) => *target = None,
        Some(Some(raw)) => {
            if let Some(clean) = v.check(text(field, raw, max)) {
                *target = (!clean.is_empty()).then_some(clean);
            }
        }
    }
}

pub async fn current(ctx: &AppContext, req: &ApiRequest) -> ApiResult<User> {
    let principal = req.user()?;
    store::get_user(ctx, &principal.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists"))
}

fn language_tag(raw: &str) -> ApiResult<String> {
    let ok = (2..=35).contains(&raw.len())
        && raw.split('-').enumerate().all(|(i, part)| {
            (if i == 0 { (2..=3).contains(&part.len()) } else { (2..=8).contains(&part.len()) })
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(raw.to_string())
    } else {
        Err(ApiError::validation("preferences.language", "is not a language tag like en or vi"))
    }
}
