//! Soft delete, restore and the purge, on a clock the test moves: a deleted
//! scenario is restorable for 30 days, then the purge removes every item it
//! had; a restored one is never purged.

use std::sync::Arc;
use std::time::Duration;

use whatif_history::export_file::files_prefix;
use whatif_history::lifecycle::{purge_expired, restore, soft_delete};
use whatif_shared::clock::{FixedClock, UlidGen, rfc3339};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::keys;
use whatif_shared::ports::table::{GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK};
use whatif_shared::scenarios::types::{GenerationOptions, Topic};
use whatif_shared::scenarios::{Scenario, store};
use whatif_shared::{ScenarioId, UserId};

const OWNER: &str = "01OWNER";
const DAY: Duration = Duration::from_secs(24 * 3600);

async fn setup() -> (Arc<AppContext>, Arc<FixedClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2026-11-27 12:00 UTC)));
    let ctx = AppContext::connect_with(
        Config::embedded(dir.path().to_path_buf()),
        clock.clone(),
        Arc::new(UlidGen::default()),
    )
    .await
    .unwrap();
    (ctx, clock, dir)
}

/// A saved scenario of `OWNER` on `topic` (as the generation routes save one).
async fn scenario(ctx: &AppContext, topic: &str) -> String {
    let id = ctx.ids.ulid().to_string();
    let now = rfc3339(ctx.clock.now());
    let json = serde_json::json!({
        "id": id,
        "topic": Topic::parse(topic).unwrap().as_str(),
        "title": topic,
        "summary": "A summary.",
        "content": "## One\n\nA.\n\n## Two\n\nB.\n\n## Three\n\nC.",
        "sections": [{"heading": "One", "body": "A."}, {"heading": "Two", "body": "B."}, {"heading": "Three", "body": "C."}],
        "choices": [{"id": "1", "text": "Left"}, {"id": "2", "text": "Right"}],
        "promptType": GenerationOptions::default().prompt_type,
        "language": "en",
        "length": GenerationOptions::default().length,
        "provider": "offline",
        "model": "offline-v1",
        "tokens": {"prompt": 0, "completion": 0, "total": 0},
        "rootId": id,
        "depth": 0,
        "promptVersion": "v1",
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    });
    let mut scenario: Scenario = serde_json::from_value(json).unwrap();
    scenario.owner_id = OWNER.to_string();
    store::save(ctx, &scenario).await.unwrap();
    scenario.id
}

/// Every item of the scenario: itself, its history entry, its terms.
async fn items_of(ctx: &AppContext, id: &str) -> usize {
    let mut n = 0;
    let (owner, id) = (&UserId::from_trusted(OWNER), &ScenarioId::from_trusted(id));
    for key in [keys::scenario(owner, id), keys::scenario_summary(owner, id), keys::scenario_terms(owner, id)] {
        n += usize::from(ctx.table.get(&key).await.unwrap().is_some());
    }
    n
}

/// A share link of the scenario as the sharing service stores it (its item,
/// on the scenario's GSI2 partition, and the pointer to the reusable one):
/// how many of the two exist.
async fn share_of(ctx: &AppContext, id: &str, share: &str, put: bool) -> usize {
    let scenario = ScenarioId::from_trusted(id);
    let (item_key, pointer) = (keys::share(share), keys::active_share(&scenario));
    if put {
        let (g2pk, g2sk) = keys::shares_of_scenario(&scenario, share);
        for (key, extra) in
            [(&item_key, vec![(GSI2_PK, g2pk), (GSI2_SK, g2sk)]), (&pointer, vec![("shareUrl", share.into())])]
        {
            let mut item = Item::new();
            item.insert(PK.into(), key.pk.clone().into());
            item.insert(SK.into(), key.sk.clone().into());
            for (attr, value) in extra {
                item.insert(attr.into(), value.into());
            }
            ctx.table.put(item, None).await.unwrap();
        }
    }
    let mut n = 0;
    for key in [item_key, pointer] {
        n += usize::from(ctx.table.get(&key).await.unwrap().is_some());
    }
    n
}

async fn markers(ctx: &AppContext) -> usize {
    ctx.table.query(&Query::partition(Index::Primary, keys::PURGE_PARTITION)).await.unwrap().items.len()
}

#[tokio::test]
async fn a_deleted_scenario_is_restorable_for_30_days_then_purged_with_all_its_items() {
    let (ctx, clock, _dir) = setup().await;
    let id = scenario(&ctx, "What if the archive burned?").await;
    let kept = scenario(&ctx, "What if the archive survived?").await;
    assert_eq!(items_of(&ctx, &id).await, 3);
    for scenario in [&id, &kept] {
        let file = format!("{}v1/export.pdf", files_prefix(OWNER, scenario));
        ctx.blobs.put(&file, b"%PDF".to_vec().into(), "application/pdf").await.unwrap();
    }
    assert_eq!(share_of(&ctx, &id, "share-of-the-burned-one", true).await, 2);
    assert_eq!(share_of(&ctx, &kept, "share-of-the-kept-one", true).await, 2);
    soft_delete(&ctx, OWNER, &id, None).await.unwrap();
    assert!(
        store::get_owned(&ctx, &UserId::from_trusted(OWNER), &ScenarioId::from_trusted(&id)).await.unwrap().is_none(),
        "gone for reads"
    );
    assert_eq!(soft_delete(&ctx, OWNER, &id, None).await.unwrap_err().status, 404, "deleting twice");
    assert_eq!(markers(&ctx).await, 1);

    clock.advance(29 * DAY);
    assert_eq!(purge_expired(&ctx).await.unwrap(), 0, "still restorable");
    assert_eq!(items_of(&ctx, &id).await, 3);

    clock.advance(DAY + Duration::from_secs(1));
    assert_eq!(restore(&ctx, OWNER, &id).await.unwrap_err().status, 404, "too late to restore");
    assert_eq!(purge_expired(&ctx).await.unwrap(), 1);
    assert_eq!(items_of(&ctx, &id).await, 0, "every item is gone");
    assert_eq!(share_of(&ctx, &id, "share-of-the-burned-one", false).await, 0, "its share links are gone");
    assert_eq!(share_of(&ctx, &kept, "share-of-the-kept-one", false).await, 2, "the others' stay");
    assert_eq!(markers(&ctx).await, 0);
    assert!(ctx.blobs.list(&files_prefix(OWNER, &id)).await.unwrap().is_empty(), "its exported files are gone");
    assert_eq!(items_of(&ctx, &kept).await, 3, "the others stay");
    assert_eq!(ctx.blobs.list(&files_prefix(OWNER, &kept)).await.unwrap().len(), 1, "with their files");
    assert_eq!(purge_expired(&ctx).await.unwrap(), 0, "nothing twice");
}

#[tokio::test]
async fn a_restored_scenario_is_never_purged() {
    let (ctx, clock, _dir) = setup().await;
    let id = scenario(&ctx, "What if the archive was copied?").await;
    soft_delete(&ctx, OWNER, &id, None).await.unwrap();
    clock.advance(DAY);
    let restored = restore(&ctx, OWNER, &id).await.unwrap();
    assert!(restored.deleted_at.is_none());
    assert_eq!(restore(&ctx, OWNER, &id).await.unwrap_err().status, 409, "not deleted");
    assert_eq!(markers(&ctx).await, 0, "restore removes the marker");
    clock.advance(60 * DAY);
    assert_eq!(purge_expired(&ctx).await.unwrap(), 0);
    assert!(
        store::get_owned(&ctx, &UserId::from_trusted(OWNER), &ScenarioId::from_trusted(&id)).await.unwrap().is_some()
    );

    // Deleted again later: only the new deletion counts.
    soft_delete(&ctx, OWNER, &id, None).await.unwrap();
    clock.advance(10 * DAY);
    assert_eq!(purge_expired(&ctx).await.unwrap(), 0);
    clock.advance(21 * DAY);
    assert_eq!(purge_expired(&ctx).await.unwrap(), 1);
    assert_eq!(items_of(&ctx, &id).await, 0);
}
