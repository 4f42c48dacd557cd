//! `GET /api/scenarios/{id}`: the scenario for its owner (with an `ETag` of
//! its version, for `If-Match`), or for anyone when public, then without the
//! owner's notes (rating, favourite flag, tags, version) and without an ETag. Someone else's
//! private (or a deleted) scenario is 404, never 403. A view by someone other
//! than the owner counts once per viewer and day. Moderators also see a
//! public scenario a moderator hid (without counting a view).

use std::sync::Arc;

use whatif_shared::auth::Role;
use whatif_shared::context::AppContext;
use whatif_shared::ratelimit;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiRequest, ApiResult, Reply, ScenarioId};

use crate::{ScenarioAnswer, etag};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = ScenarioId::from(req.path_ulid("id")?);
    let caller = req.principal.as_ref().map(|p| p.id());
    let caller = caller.as_ref();
    let moderator = req.principal.as_ref().is_some_and(|p| p.role >= Role::Moderator);
    let mut scenario = match store::get_visible(&ctx, caller, &id).await {
        Ok(scenario) => scenario,
        // Moderators also see a public scenario a moderator hid (to review it);
        // nobody else learns it exists.
        Err(e) if moderator => match store::get_by_id(&ctx, &id).await? {
            Some(hidden) if hidden.is_public && hidden.is_hidden => {
                return Ok(Reply::ok(ScenarioAnswer { scenario: hidden.shown_to(caller) }));
            }
            _ => return Err(e),
        },
        Err(e) => return Err(e),
    };
    if scenario.is_owned_by(caller) {
        let tag = etag(scenario.version);
        return Ok(Reply::ok(ScenarioAnswer { scenario }).header(http::header::ETAG, &tag));
    }
    // The viewer is kept hashed (the marker lives two days).
    let viewer = ratelimit::hashed_subject(req.principal.as_ref(), req.source_ip, id.as_str());
    let day = ctx.clock.now().date().to_string();
    if store::count_view(&ctx, &scenario, &viewer, &day).await? {
        scenario.view_count += 1;
    }
    Ok(Reply::ok(ScenarioAnswer { scenario: scenario.shown_to(caller) }))
}
