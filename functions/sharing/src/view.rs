//! `GET /shared/{shareUrl}`: the shared scenario and its share, for anyone
//! with the link (and its password, in `X-Share-Password`). The scenario is
//! served without its owner's id, notes or costs; the author's name only when
//! their profile is public. A view by anyone but the owner counts once per
//! viewer, share and day, on the share and on the owner's analytics.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::accounts::store as accounts;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, TxOp, Update};
use whatif_shared::scenarios::{Scenario, store};
use whatif_shared::{ApiRequest, ApiResult, Reply, keys};

use crate::share::{self, Author, PublicShare, Share, ShareId};
use crate::stats;

#[derive(Debug, Serialize, JsonSchema)]
pub struct SharedAnswer {
    /// The scenario as a stranger sees it (no owner id, notes or costs).
    #[schemars(schema_with = "shown_scenario")]
    pub scenario: Value,
    pub share: PublicShare,
}

/// What a viewer is never shown of a shared scenario, beyond the owner's
/// notes: what it cost and how it was produced internally.
const INTERNAL: [&str; 4] = ["tokens", "costUsd", "promptVersion", "isHidden"];

/// The schema of a scenario as a viewer gets it: [`Scenario`]'s without
/// the [`INTERNAL`] fields.
fn shown_scenario(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = <Scenario as JsonSchema>::json_schema(generator);
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| !INTERNAL.contains(&name.as_str().unwrap_or_default()));
    }
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for name in INTERNAL {
            properties.remove(name);
        }
    }
    schema
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let raw = req.path_param("shareUrl")?;
    // Whether this viewer viewed it today is read beside the share.
    let day = ctx.clock.now().date().to_string();
    let viewer = share::viewer(&req, raw);
    let seen = async {
        match ShareId::parse(raw) {
            Some(id) => store::view_marked(&ctx, &keys::share_view(id.as_str(), &day, &viewer)).await,
            None => Ok(true),
        }
    };
    let ((mut share, scenario), seen) = futures::try_join!(share::open(&ctx, raw), seen)?;
    share::unlock(&ctx, &req, &share).await?;
    let caller = req.principal.as_ref().map(|p| p.id());
    let owner = accounts::get_user(&ctx, &share.owner_id).await?;
    // A first view today by anyone but the owner counts, after the answer
    // (which shows it counted).
    if !seen && !share.is_owned_by(caller.as_ref()) {
        share.view_count += 1;
        let (ctx, counted) = (ctx.clone(), share.clone());
        whatif_shared::pipeline::after_answer(async move {
            if let Err(e) = count_view(&ctx, &counted, &day, &viewer).await {
                tracing::error!(error = %e.message, "could not count a share's view");
            }
        })
        .await;
    }
    let author = owner.and_then(|user| user.public_name()).map(|display_name| Author { display_name });
    let public = PublicShare {
        share_url: share.share_url.clone(),
        title: share.shown_title(&scenario),
        description: share.shown_description(&scenario),
        expires_at: share.expires_at.clone(),
        view_count: share.view_count,
        created_at: share.created_at.clone(),
        is_password_protected: share.password_hash.is_some(),
        author,
    };
    let mut shown = scenario.shown_to(None);
    if let Value::Object(fields) = &mut shown {
        for name in INTERNAL {
            fields.remove(name);
        }
    }
    Ok(Reply::ok(SharedAnswer { scenario: shown, share: public })
        .header(http::header::CACHE_CONTROL, "private, no-store"))
}

/// Counts one view of `share` by `viewer` on `day`: the marker (once per
/// viewer, share and day), the share's count and the owner's day, in one
/// transaction (a view counted already is left as it is).
async fn count_view(ctx: &AppContext, share: &Share, day: &str, viewer: &str) -> ApiResult<()> {
    let ops = vec![
        store::view_marker(ctx, keys::share_view(&share.share_url, day, viewer)),
        TxOp::Update {
            key: keys::share(&share.share_url),
            update: Update::new().add("viewCount", 1),
            cond: Some(Cond::Exists),
        },
        stats::count(ctx, &share.owner(), stats::Event::Viewed),
    ];
    match ctx.table.transact(ops).await {
        Ok(()) | Err(StoreError::TransactionCanceled { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
