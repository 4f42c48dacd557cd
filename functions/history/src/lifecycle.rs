//! Soft delete, restore and purge: a deleted scenario is gone for every read
//! but restore, for [`RESTORE_DAYS`]; then the purge worker removes it for
//! good. Deleting writes a marker in the `PURGE` partition, keyed by the time
//! of deletion, in the same transaction; restore removes it.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::scenarios::store::{self, Scenario};

use crate::export_file::files_prefix;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, Index, Item, PK, Query, SK, SortKey, TxOp};
use whatif_shared::{ApiError, ApiResult, ScenarioId, UserId};

pub const RESTORE_DAYS: i64 = 30;

/// Soft-deletes the owner's scenario; 404 when it is missing or already deleted.
pub async fn soft_delete(ctx: &AppContext, owner: &str, id: &str, expected: Option<u64>) -> ApiResult<Scenario> {
    let now = rfc3339(ctx.clock.now());
    let (owner, id) = (&UserId::from_trusted(owner), &ScenarioId::from_trusted(id));
    store::edit(ctx, owner, id, expected, |s| {
        if s.is_deleted() {
            return Err(ApiError::not_found("Scenario"));
        }
        s.deleted_at = Some(now.clone());
        let marker = keys::scenario_purge(&now, owner, id);
        let mut item = Item::new();
        item.insert(PK.into(), marker.pk.into());
        item.insert(SK.into(), marker.sk.into());
        Ok(vec![TxOp::Put { item, cond: None }])
    })
    .await
}

/// Restores the owner's deleted scenario within [`RESTORE_DAYS`]; 404 when it
/// is missing or its time is up, 409 `NOT_DELETED` when it was not deleted.
pub async fn restore(ctx: &AppContext, owner: &str, id: &str) -> ApiResult<Scenario> {
    let now = ctx.clock.now();
    let (owner, id) = (&UserId::from_trusted(owner), &ScenarioId::from_trusted(id));
    store::edit(ctx, owner, id, None, |s| {
        let Some(deleted_at) = s.deleted_at.take() else {
            return Err(ApiError::conflict("NOT_DELETED", "The scenario is not deleted"));
        };
        if !restorable(&deleted_at, now) {
            return Err(ApiError::not_found("Scenario"));
        }
        Ok(vec![TxOp::Delete { key: keys::scenario_purge(&deleted_at, owner, id), cond: None }])
    })
    .await
}

/// When a scenario deleted at `deleted_at` can no longer be restored.
pub fn restorable_until(deleted_at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(deleted_at, &Rfc3339).ok().map(|at| at + time::Duration::days(RESTORE_DAYS))
}

fn restorable(deleted_at: &str, now: OffsetDateTime) -> bool {
    restorable_until(deleted_at).is_some_and(|until| now < until)
}

/// Purges every scenario deleted more than [`RESTORE_DAYS`] ago; returns how many.
pub async fn purge_expired(ctx: &AppContext) -> ApiResult<usize> {
    let cutoff = rfc3339(ctx.clock.now() - time::Duration::days(RESTORE_DAYS));
    let mut purged = 0;
    let mut query = Query::partition(Index::Primary, keys::PURGE_PARTITION).sk(SortKey::Lt(cutoff)).limit(100);
    loop {
        let page = ctx.table.query(&query).await?;
        for marker in page.items {
            let Some(sk) = marker.get(SK).and_then(|v| v.as_str()) else { continue };
            let parts: Vec<&str> = sk.rsplitn(3, '#').collect();
            let [id, owner, deleted_at] = parts[..] else { continue };
            // The marker's ids are the ones the store wrote.
            let (owner, id) = (UserId::from_trusted(owner), ScenarioId::from_trusted(id));
            let marker_key = keys::scenario_purge(deleted_at, &owner, &id);
            let delete_marker = TxOp::Delete { key: marker_key.clone(), cond: None };
            match store::get_owned_even_deleted(ctx, &owner, &id).await? {
                // Still deleted since then: gone for good, with its marker.
                Some(s) if s.deleted_at.as_deref() == Some(deleted_at) => {
                    // Unless it is restored meanwhile.
                    let still_deleted = Cond::eq("deletedAt", deleted_at);
                    if store::purge(ctx, &s, Some(still_deleted), vec![delete_marker]).await? {
                        ctx.blobs.delete_all(&files_prefix(owner.as_str(), id.as_str())).await?;
                        tracing::info!(scenario_id = id.as_str(), "purged a scenario deleted over 30 days ago");
                        purged += 1;
                    }
                }
                // Restored (or deleted again later, with a marker of its own): a stale marker.
                _ => {
                    ctx.table.delete(&marker_key, None).await?;
                }
            }
        }
        match page.next {
            Some(next) => query = query.start(Some(next)),
            None => return Ok(purged),
        }
    }
}
