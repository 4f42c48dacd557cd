//! `POST /api/share/{scenarioId}`: a share link of the caller's scenario.
//!
//! The scenario's live share is reused (200) unless `forceNew`, or the
//! request asks for what it does not have (a password, an expiry, another
//! title or description); otherwise a new share is made (201) and becomes
//! the one later requests reuse. The share, the pointer to it, the
//! scenario's `shareCount` and the owner's daily count are written in one
//! transaction, conditional on the pointer read, so two requests at once
//! never make two "reused" shares.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Item, PK, SK, TxOp};
use whatif_shared::scenarios::store::{self, Counter};
use whatif_shared::social::achievements::{self, Achievement};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId, keys};

use crate::share::{self, Links, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, Share, ShareId};
use crate::stats;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBody {
    /// Shown instead of the scenario's title (at most 200 characters).
    #[schemars(length(max = 200), regex(pattern = whatif_shared::openapi::TEXT_PATTERN))]
    pub title: Option<String>,
    /// Shown instead of the scenario's summary (at most 500 characters).
    #[schemars(length(max = 500), regex(pattern = whatif_shared::openapi::TEXT_PATTERN))]
    pub description: Option<String>,
    /// 4–128 characters; viewers send it in `X-Share-Password`.
    #[schemars(length(min = 4, max = 128))]
    pub password: Option<String>,
    /// RFC 3339, in the future, within five years.
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,
    /// Make a new share even when the scenario has a live one.
    #[serde(default)]
    pub force_new: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAnswer {
    /// The share's id, as in `/shared/{shareUrl}`.
    pub share_url: String,
    /// The public page to send people (with link previews).
    pub full_url: String,
    pub qr_code_url: String,
    pub expires_at: Option<String>,
    pub is_password_protected: bool,
}

impl CreateAnswer {
    fn of(ctx: &AppContext, share: &Share) -> Self {
        let links = Links::of(ctx, &share.share_url);
        CreateAnswer {
            share_url: share.share_url.clone(),
            full_url: links.full_url,
            qr_code_url: links.qr_code_url,
            expires_at: share.expires_at.clone(),
            is_password_protected: share.password_hash.is_some(),
        }
    }
}

/// The attribute of the pointer item that names the reusable share.
const POINTER: &str = "shareUrl";

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: CreateBody =
        if req.body.iter().all(u8::is_ascii_whitespace) { CreateBody::default() } else { req.json()? };
    let owner = req.user()?.id();
    let scenario_id = ScenarioId::from(req.path_ulid("scenarioId")?);
    let mut v = Validation::default();
    let title = v.check(share::text("title", body.title.as_deref(), MAX_TITLE_CHARS)).flatten();
    let description = v.check(share::text("description", body.description.as_deref(), MAX_DESCRIPTION_CHARS)).flatten();
    let expires_at = body.expires_at.as_deref().and_then(|raw| v.check(share::expiry(&ctx, raw)));
    let password = match body.password.as_deref() {
        Some(raw) => v.check(share::hash_password(raw).await),
        None => None,
    };
    v.finish()?;
    let scenario =
        store::get_owned(&ctx, &owner, &scenario_id).await?.ok_or_else(|| ApiError::not_found("Scenario"))?;
    if scenario.is_hidden {
        return Err(
            ApiError::forbidden("A moderator hid this scenario; it cannot be shared").with_code("SCENARIO_HIDDEN")
        );
    }
    let pointer_key = keys::active_share(&scenario_id);
    for _ in 0..5 {
        let current = ctx.table.get(&pointer_key).await?.and_then(|p| p.get(POINTER)?.as_str().map(str::to_string));
        if !body.force_new
            && password.is_none()
            && let Some(id) = current.as_deref().and_then(ShareId::parse)
            && let Some(live) = share::get(&ctx, &id).await?
            && live.is_live(ctx.clock.now())
            && expires_at.as_ref().is_none_or(|e| live.expires_at.as_ref() == Some(e))
            && title.as_ref().is_none_or(|t| live.title.as_ref() == Some(t))
            && description.as_ref().is_none_or(|d| live.description.as_ref() == Some(d))
        {
            return Ok(Reply::ok(CreateAnswer::of(&ctx, &live)).message("The scenario's share link"));
        }
        let now = rfc3339(ctx.clock.now());
        let new = Share {
            share_url: ShareId::generate(&scenario_id).as_str().to_string(),
            scenario_id: scenario_id.to_string(),
            owner_id: owner.to_string(),
            title: title.clone(),
            description: description.clone(),
            password_hash: password.clone(),
            expires_at: expires_at.clone(),
            is_active: true,
            revoked_at: None,
            is_hidden: false,
            view_count: 0,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let mut pointer = Item::new();
        pointer.insert(PK.into(), pointer_key.pk.clone().into());
        pointer.insert(SK.into(), pointer_key.sk.clone().into());
        pointer.insert(POINTER.into(), Value::String(new.share_url.clone()));
        let pointer_cond = match &current {
            Some(id) => Cond::eq(POINTER, id.as_str()),
            None => Cond::NotExists,
        };
        let mut ops = vec![
            TxOp::Put { item: new.to_item()?, cond: Some(Cond::NotExists) },
            TxOp::Put { item: pointer, cond: Some(pointer_cond) },
        ];
        let counted = ops.len();
        ops.extend(store::add_to_counter(&owner, &scenario_id, Counter::Shares));
        ops.push(stats::count(&ctx, &owner, stats::Event::Shared));
        match ctx.table.transact(ops).await {
            Ok(()) => {
                // Best effort: the share exists; reading one's achievements awards it later otherwise.
                if let Err(e) = achievements::award(&ctx, &owner, Achievement::FirstShare).await {
                    tracing::warn!(error = %e, "could not award the first share");
                }
                return Ok(Reply::created(CreateAnswer::of(&ctx, &new)).message("Share link created"));
            }
            // Another request moved the pointer: read it again.
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => continue,
            // The scenario went away meanwhile.
            Err(StoreError::TransactionCanceled { failed })
                if failed.iter().any(|i| (counted..counted + 3).contains(i)) =>
            {
                return Err(ApiError::not_found("Scenario"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "The scenario's share is being changed by other requests; try again").retry_after(1))
}
