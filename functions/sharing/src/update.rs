//! `PATCH /api/sharing/share/{shareUrl}`: the owner changes a share's title,
//! description, password, expiry or pauses it (`isActive`). Only those
//! fields; `null` clears an override, the password or the expiry. A revoked
//! share stays revoked (404). The change is conditional on the version read,
//! so two edits never lose one another.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Update};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, keys};

use crate::share::{self, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, Share};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBody {
    /// `null` shows the scenario's title again.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    #[schemars(length(max = 200), regex(pattern = whatif_shared::openapi::TEXT_PATTERN))]
    pub title: Option<Option<String>>,
    /// `null` shows the scenario's summary again.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    #[schemars(length(max = 500), regex(pattern = whatif_shared::openapi::TEXT_PATTERN))]
    pub description: Option<Option<String>>,
    /// 4–128 characters; `null` removes the password.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    #[schemars(length(min = 4, max = 128))]
    pub password: Option<Option<String>>,
    /// RFC 3339 in the future; `null`: never expires.
    #[serde(default, deserialize_with = "whatif_shared::http::present")]
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<Option<String>>,
    /// `false` pauses the share (404 for viewers), `true` resumes it.
    pub is_active: Option<bool>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: UpdateBody = req.json()?;
    let owner = req.user()?.id();
    let mut v = Validation::default();
    let title = body.title.map(|t| v.check(share::text("title", t.as_deref(), MAX_TITLE_CHARS)).flatten());
    let description =
        body.description.map(|d| v.check(share::text("description", d.as_deref(), MAX_DESCRIPTION_CHARS)).flatten());
    let expires_at = body.expires_at.map(|e| e.and_then(|raw| v.check(share::expiry(&ctx, &raw))));
    let password = match body.password {
        Some(Some(raw)) => Some(v.check(share::hash_password(&raw).await)),
        Some(None) => Some(None),
        None => None,
    };
    v.finish()?;
    let mut share = share::get_owned(&ctx, &owner, req.path_param("shareUrl")?).await?;
    if share.revoked_at.is_some() {
        return Err(share::not_found());
    }
    let mut update = Update::new();
    let mut set = |attr: &str, value: &Option<String>, field: &mut Option<String>| {
        *field = value.clone();
        update = std::mem::take(&mut update).set(attr, value.clone().map_or(serde_json::Value::Null, Into::into));
    };
    if let Some(title) = &title {
        set("title", title, &mut share.title);
    }
    if let Some(description) = &description {
        set("description", description, &mut share.description);
    }
    if let Some(expires_at) = &expires_at {
        set("expiresAt", expires_at, &mut share.expires_at);
    }
    if let Some(password) = &password {
        set("passwordHash", password, &mut share.password_hash);
    }
    if let Some(active) = body.is_active {
        share.is_active = active;
        update = update.set("isActive", active);
    }
    if update.is_empty() {
        return Ok(Reply::ok(share.owner_view(&ctx)));
    }
    share.updated_at = rfc3339(ctx.clock.now());
    let version = share.version;
    share.version += 1;
    let update = update.set("updatedAt", share.updated_at.as_str()).set("version", share.version);
    save(&ctx, &share, update, version).await?;
    Ok(Reply::ok(share.owner_view(&ctx)).message("Share updated"))
}

/// Writes `update` to `share` when its stored version is still `version`
/// (a revocation bumps it too): 409 when another change came first.
pub async fn save(ctx: &AppContext, share: &Share, update: Update, version: u64) -> ApiResult<()> {
    let cond = Cond::And(vec![Cond::Exists, Cond::eq("version", version)]);
    match ctx.table.update(&keys::share(&share.share_url), update, Some(cond)).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(ApiError::conflict(
            "VERSION_MISMATCH",
            "The share was changed by another request; reload it and try again",
        )),
        Err(e) => Err(e.into()),
    }
}
