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
use whatif_shared::{ApiRequest, ApiResult, Reply, ScenarioId, keys};

use crate::{ScenarioAnswer, etag};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = ScenarioId::from(req.path_ulid("id")?);
    let caller = req.principal.as_ref().map(|p| p.id());
    let caller = caller.as_ref();
    let moderator = req.principal.as_ref().is_some_and(|p| p.role >= Role::Moderator);
    // The viewer is kept hashed (the marker lives two days). Someone
    // anonymous is never the owner: whether they viewed it today is read
    // beside the scenario.
    let viewer = ratelimit::hashed_subject(req.principal.as_ref(), req.source_ip, id.as_str());
    let day = ctx.clock.now().date().to_string();
    let (found, seen) = tokio::join!(store::get_visible(&ctx, caller, &id), async {
        match caller {
            None => store::view_marked(&ctx, &keys::scenario_view(&id, &day, &viewer)).await.map(Some),
            Some(_) => Ok(None),
        }
    });
    let mut scenario = match found {
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
    let seen = match seen? {
        Some(seen) => seen,
        None => store::view_marked(&ctx, &keys::scenario_view(&id, &day, &viewer)).await?,
    };
    // A first view today counts, after the answer (which shows it counted).
    if !seen {
        scenario.view_count += 1;
        let (ctx, counted) = (ctx.clone(), scenario.clone());
        whatif_shared::pipeline::after_answer(async move {
            if let Err(e) = store::count_view(&ctx, &counted, &viewer, &day).await {
                tracing::error!(error = %e.message, "could not count a view");
            }
        })
        .await;
    }
    Ok(Reply::ok(ScenarioAnswer { scenario: scenario.shown_to(caller) }))
}
