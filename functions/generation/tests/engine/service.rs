//! The generation service on the embedded store with the offline provider:
//! history, the cache, screening, continuations, trees, visibility, versions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use whatif_generation::Screen;
use whatif_generation::chain::{BreakerPolicy, ProviderChain};
use whatif_generation::provider::{ModelOutput, ModelRequest, ProviderError, ScenarioModel};
use whatif_generation::providers::Offline;
use whatif_generation::scenario::{GenerationOptions, Topic};
use whatif_generation::service::{self, Generator, NextStep};
use whatif_shared::ApiError;
use whatif_shared::UserId;
use whatif_shared::clock::{FixedClock, UlidGen};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::Update;
use whatif_shared::scenarios::store;

/// The offline provider, counting its calls; each call gets another seed, so
/// a fresh generation differs from a cached one.
#[derive(Default)]
struct Counting(AtomicU64);

#[async_trait]
impl ScenarioModel for Counting {
    fn name(&self) -> &str {
        "offline"
    }
    async fn generate(&self, req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let mut req = req.clone();
        req.seed = req.seed.wrapping_add(n.wrapping_mul(0x9e37_79b9));
        Offline.generate(&req).await
    }
}

/// A model whose scenario mentions a blocked term.
struct Leaky;

#[async_trait]
impl ScenarioModel for Leaky {
    fn name(&self) -> &str {
        "leaky"
    }
    async fn generate(&self, _req: &ModelRequest) -> Result<ModelOutput, ProviderError> {
        let text = serde_json::json!({
            "title": "The Zorblax files",
            "summary": "A harmless summary.",
            "sections": [
                {"heading": "One", "body": "First."},
                {"heading": "Two", "body": "Second."},
                {"heading": "Three", "body": "Third."}
            ],
            "choices": [{"id": "a", "text": "Go on"}, {"id": "b", "text": "Stop"}]
        });
        Ok(ModelOutput { text: text.to_string(), model: "leaky-1".into(), usage: Default::default() })
    }
}

struct Env {
    ctx: Arc<AppContext>,
    clock: Arc<FixedClock>,
    model: Arc<Counting>,
    generator: Generator,
    _dir: tempfile::TempDir,
}

impl Env {
    /// A new scenario id.
    fn id(&self) -> String {
        self.ctx.ids.ulid().to_string()
    }

    fn calls(&self) -> u64 {
        self.model.0.load(Ordering::SeqCst)
    }
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2026-11-27 12:00 UTC)));
    let ctx = AppContext::connect_with(
        Config::embedded(dir.path().to_path_buf()),
        clock.clone(),
        Arc::new(UlidGen::default()),
    )
    .await
    .unwrap();
    let model = Arc::new(Counting::default());
    let chain = ProviderChain::new(vec![model.clone()], BreakerPolicy::default(), clock.clone());
    let generator = Generator::new(chain, Screen::new(&["zorblax"]));
    Env { ctx, clock, model, generator, _dir: dir }
}

fn topic(text: &str) -> Topic {
    Topic::parse(text).unwrap()
}

fn opts() -> GenerationOptions {
    GenerationOptions::default()
}

fn status(err: &ApiError) -> u16 {
    err.status.as_u16()
}

const ALICE: &str = "01ALICE";
const BOB: &str = "01BOB";

#[tokio::test]
async fn signed_in_generations_are_saved_and_anonymous_ones_are_not() {
    let e = env().await;
    let mine =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the Moon vanished?"), &opts()).await.unwrap();
    assert!(mine.saved && !mine.cached);
    let s = &mine.scenario;
    assert_eq!((s.root_id.as_str(), s.depth, s.parent_id.as_deref()), (s.id.as_str(), 0, None));
    assert_eq!(s.topic, "What if the Moon vanished?");
    assert_eq!((s.provider.as_str(), s.model.as_str()), ("offline", Offline::MODEL));
    assert_eq!(s.prompt_version, whatif_generation::PROMPT_VERSION);
    assert_eq!(s.version, 1);
    assert!(!s.is_public && s.content.starts_with("## "));
    assert_eq!(
        store::get_owned(&e.ctx, &UserId::from_trusted(ALICE), &s.scenario_id()).await.unwrap().as_ref(),
        Some(s)
    );
    let by_id = store::get_by_id(&e.ctx, &s.scenario_id()).await.unwrap().unwrap();
    assert_eq!(by_id.owner_id, ALICE);
    assert_eq!(&by_id, s);

    // The served JSON has the API's shape and never the owner.
    let json = serde_json::to_value(s).unwrap();
    for field in
        ["id", "topic", "title", "summary", "content", "sections", "choices", "promptType", "rootId", "isPublic"]
    {
        assert!(json.get(field).is_some(), "{field} missing: {json}");
    }
    assert!(json.get("userId").is_none() && json.get("ownerId").is_none());
    assert_eq!(json["tokens"], serde_json::json!({"prompt": 0, "completion": 0, "total": 0}));
    let schema = serde_json::to_value(schemars::schema_for!(whatif_generation::Scenario)).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    assert!(properties.contains_key("promptType") && properties.contains_key("versionOf"));
    assert!(!properties.contains_key("ownerId"));

    let anon = e.generator.generate(&e.ctx, None, e.id(), &topic("What if cats could talk?"), &opts()).await.unwrap();
    assert!(!anon.saved);
    assert!(store::get_by_id(&e.ctx, &anon.scenario.scenario_id()).await.unwrap().is_none());
}

#[tokio::test]
async fn the_cache_serves_the_same_request_and_force_new_skips_it() {
    let e = env().await;
    let first =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the café closed?"), &opts()).await.unwrap();
    assert_eq!(e.calls(), 1);

    // Same topic once normalised (case, spaces, accents): served from the cache.
    let again =
        e.generator.generate(&e.ctx, None, e.id(), &topic("  WHAT IF   the cafe closed? "), &opts()).await.unwrap();
    assert!(again.cached);
    assert_eq!(e.calls(), 1, "no model call");
    assert_eq!(again.scenario.content, first.scenario.content);
    assert_eq!(again.scenario.title, first.scenario.title);
    assert_ne!(again.scenario.id, first.scenario.id, "a cache hit is still a new scenario");
    assert_eq!(again.scenario.topic, "WHAT IF   the cafe closed?", "the topic as asked");

    // Other options: another entry.
    let humor = GenerationOptions { prompt_type: whatif_generation::PromptType::Humor, ..opts() };
    assert!(
        !e.generator.generate(&e.ctx, None, e.id(), &topic("What if the café closed?"), &humor).await.unwrap().cached
    );
    assert_eq!(e.calls(), 2);

    // forceNew: a model call, and its result replaces the entry.
    let forced = GenerationOptions { force_new: true, ..opts() };
    let fresh =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the café closed?"), &forced).await.unwrap();
    assert!(!fresh.cached);
    assert_eq!(e.calls(), 3);
    assert_ne!(fresh.scenario.content, first.scenario.content, "a new call writes another scenario");
    let after = e.generator.generate(&e.ctx, None, e.id(), &topic("what if the café closed?"), &opts()).await.unwrap();
    assert!(after.cached);
    assert_eq!(after.scenario.content, fresh.scenario.content);

    // An entry lives 24 hours (read filters by the TTL, whatever the store still holds).
    e.clock.advance(Duration::from_secs(24 * 3600));
    let expired =
        e.generator.generate(&e.ctx, None, e.id(), &topic("what if the café closed?"), &opts()).await.unwrap();
    assert!(!expired.cached);
    assert_eq!(e.calls(), 4);
}

#[tokio::test]
async fn a_blocked_topic_is_422_with_a_reason_before_any_model_call() {
    let e = env().await;
    for text in
        ["What if the ZÖRBLAX came back?", "How to make a bomb from a phone?", "Nếu tôi biết cách làm bom thì sao?"]
    {
        let err = e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic(text), &opts()).await.unwrap_err();
        assert_eq!(status(&err), 422, "{text}");
        assert_eq!(err.code, "CONTENT_BLOCKED");
        assert!(err.message.contains("asks for"), "{}", err.message);
        assert_eq!(err.errors.first().map(|f| f.field.as_str()), Some("topic"));
    }
    let err = e.generator.regenerate(&e.ctx, None, e.id(), &topic("zorblax again"), None, &opts()).await.unwrap_err();
    assert_eq!(status(&err), 422);
    assert_eq!(e.calls(), 0);
    // Word boundaries: a longer word is not the term.
    assert!(e.generator.generate(&e.ctx, None, e.id(), &topic("What if zorblaxes ruled?"), &opts()).await.is_ok());
}

#[tokio::test]
async fn a_blocked_output_is_withheld_and_not_cached() {
    let e = env().await;
    let chain = ProviderChain::new(vec![Arc::new(Leaky)], BreakerPolicy::default(), e.clock.clone());
    let leaky = Generator::new(chain, Screen::new(&["zorblax"]));
    let err = leaky.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the sea froze?"), &opts()).await.unwrap_err();
    assert_eq!(status(&err), 422);
    assert_eq!(err.code, "CONTENT_BLOCKED");
    assert!(err.message.contains("withheld"), "{}", err.message);
    let clean = Generator::new(
        ProviderChain::new(vec![Arc::new(Leaky)], BreakerPolicy::default(), e.clock.clone()),
        Screen::default(),
    );
    let ok = clean.generate(&e.ctx, None, e.id(), &topic("What if the sea froze?"), &opts()).await.unwrap();
    assert!(!ok.cached, "the withheld answer was not cached");
}

#[tokio::test]
async fn continuing_twice_makes_a_tree_of_three_with_the_path() {
    let e = env().await;
    let root =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the Moon vanished?"), &opts()).await.unwrap();
    let root = root.scenario;
    let first_choice = root.choices[0].clone();
    let child = e
        .generator
        .continue_from(&e.ctx, ALICE, e.id(), &root.id, NextStep::Choice(first_choice.id.clone()))
        .await
        .unwrap();
    assert_eq!(child.parent_id.as_deref(), Some(root.id.as_str()));
    assert_eq!((child.root_id.as_str(), child.depth), (root.id.as_str(), 1));
    assert_eq!(child.topic, root.topic);
    assert_eq!(child.title, first_choice.text.trim_end_matches(['.', '!', '?']), "offline: the branch's title");
    assert!(child.summary.contains(&root.title), "the parent is in the prompt: {}", child.summary);

    let grandchild = e
        .generator
        .continue_from(&e.ctx, ALICE, e.id(), &child.id, NextStep::Custom("Everyone moves to Mars".into()))
        .await
        .unwrap();
    assert_eq!((grandchild.root_id.as_str(), grandchild.depth), (root.id.as_str(), 2));
    assert_eq!(grandchild.title, "Everyone moves to Mars");

    let tree = service::tree(&e.ctx, Some(ALICE), &grandchild.id).await.unwrap();
    assert_eq!(tree.root_id, root.id);
    assert_eq!(tree.id, grandchild.id);
    assert_eq!(tree.nodes.len(), 3);
    let ids: Vec<_> = tree.nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids, [root.id.clone(), child.id.clone(), grandchild.id.clone()], "root first");
    assert_eq!(tree.path, ids);
    let from_child = service::tree(&e.ctx, Some(ALICE), &child.id).await.unwrap();
    assert_eq!(from_child.path, [root.id.clone(), child.id.clone()]);
    assert_eq!(from_child.nodes.len(), 3);

    let children = store::children(&e.ctx, &root).await.unwrap();
    assert_eq!(children.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [child.id.as_str()]);

    // The root counts its tree's nodes; a full tree takes no more.
    let key = whatif_shared::keys::scenario(&UserId::from_trusted(ALICE), &root.scenario_id());
    let item = e.ctx.table.get(&key).await.unwrap().unwrap();
    assert_eq!(item.get("nodeCount").and_then(|v| v.as_u64()), Some(2));
    let full = Update::new().set("nodeCount", store::MAX_TREE_NODES as u64 - 1);
    e.ctx.table.update(&key, full, None).await.unwrap();
    let err =
        e.generator.continue_from(&e.ctx, ALICE, e.id(), &child.id, NextStep::Choice("a".into())).await.unwrap_err();
    assert_eq!((status(&err), err.code), (422, "TREE_FULL"));
    assert_eq!(service::tree(&e.ctx, Some(ALICE), &root.id).await.unwrap().nodes.len(), 3);

    let err =
        e.generator.continue_from(&e.ctx, ALICE, e.id(), &root.id, NextStep::Choice("zz".into())).await.unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(err.errors.first().map(|f| f.field.as_str()), Some("choiceId"));
}

#[tokio::test]
async fn a_blocked_custom_choice_is_422_and_saves_nothing() {
    let e = env().await;
    let root =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the Moon vanished?"), &opts()).await.unwrap();
    let calls = e.calls();
    let err = e
        .generator
        .continue_from(&e.ctx, ALICE, e.id(), &root.scenario.id, NextStep::Custom("The Zorblax arrive".into()))
        .await
        .unwrap_err();
    assert_eq!(status(&err), 422);
    assert_eq!(err.code, "CONTENT_BLOCKED");
    assert_eq!(err.errors.first().map(|f| f.field.as_str()), Some("customChoice"));
    assert_eq!(e.calls(), calls, "no model call");
    let err = e
        .generator
        .continue_from(&e.ctx, ALICE, e.id(), &root.scenario.id, NextStep::Custom("  x ".into()))
        .await
        .unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(service::tree(&e.ctx, Some(ALICE), &root.scenario.id).await.unwrap().nodes.len(), 1);
}

#[tokio::test]
async fn another_users_private_tree_is_404_and_a_public_one_is_readable() {
    let e = env().await;
    let root =
        e.generator.generate(&e.ctx, Some(ALICE), e.id(), &topic("What if the Moon vanished?"), &opts()).await.unwrap();
    let root = root.scenario;
    let child = e
        .generator
        .continue_from(&e.ctx, ALICE, e.id(), &root.id, NextStep::Choice(root.choices[0].id.clone()))
        .await
        .unwrap();

    for caller in [Some(BOB), None] {
        let err = service::tree(&e.ctx, caller, &child.id).await.unwrap_err();
        assert_eq!(status(&err), 404, "never 403");
        assert_eq!(err.code, "NOT_FOUND");
    }
    let err = e.generator.continue_from(&e.ctx, BOB, e.id(), &root.id, NextStep::Choice("a".into())).await.unwrap_err();
    assert_eq!(status(&err), 404);
    assert_eq!(status(&service::tree(&e.ctx, Some(BOB), "01NOSUCHSCENARIO").await.unwrap_err()), 404);

    // Public: readable by anyone; a non-owner sees only the public nodes.
    let published =
        store::set_public(&e.ctx, &UserId::from_trusted(ALICE), &child.scenario_id(), true, Some(1)).await.unwrap();
    assert_eq!(published.version, 2);
    assert!(published.is_public);
    let seen = service::tree(&e.ctx, Some(BOB), &child.id).await.unwrap();
    assert_eq!(seen.nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), [child.id.as_str()]);
    assert_eq!(seen.path, vec![child.id.clone()], "the private root is not shown");
    store::set_public(&e.ctx, &UserId::from_trusted(ALICE), &root.scenario_id(), true, None).await.unwrap();
    let seen = service::tree(&e.ctx, None, &child.id).await.unwrap();
    assert_eq!(seen.nodes.len(), 2);
    assert_eq!(seen.path, [root.id.clone(), child.id.clone()]);
    assert!(seen.nodes.iter().all(|n| n.owner_id == ALICE));

    // Public, but not Bob's to change.
    let err = e.generator.continue_from(&e.ctx, BOB, e.id(), &root.id, NextStep::Choice("a".into())).await.unwrap_err();
    assert_eq!(status(&err), 403);
    // A stale version is a conflict; another user's id is not found.
    assert_eq!(
        status(
            &store::set_public(&e.ctx, &UserId::from_trusted(ALICE), &root.scenario_id(), false, Some(1))
                .await
                .unwrap_err()
        ),
        409
    );
    assert_eq!(
        status(
            &store::set_public(&e.ctx, &UserId::from_trusted(BOB), &root.scenario_id(), false, None).await.unwrap_err()
        ),
        404
    );
}

#[tokio::test]
async fn regenerate_links_the_new_version_to_the_previous_one() {
    let e = env().await;
    let t = topic("What if the Moon vanished?");
    let v1 = e.generator.generate(&e.ctx, Some(ALICE), e.id(), &t, &opts()).await.unwrap().scenario;
    let v2 = e.generator.regenerate(&e.ctx, Some(ALICE), e.id(), &t, Some(&v1.id), &opts()).await.unwrap();
    assert!(v2.saved && !v2.cached);
    assert_eq!(e.calls(), 2, "a new version is always a model call");
    let v2 = v2.scenario;
    assert_eq!(v2.version_of.as_deref(), Some(v1.id.as_str()));
    assert_eq!((v2.root_id.as_str(), v2.depth, v2.parent_id.as_deref()), (v2.id.as_str(), 0, None));
    let v3 = e.generator.regenerate(&e.ctx, Some(ALICE), e.id(), &t, Some(&v2.id), &opts()).await.unwrap().scenario;

    let chain = service::versions(&e.ctx, &UserId::from_trusted(ALICE), &v3.scenario_id()).await.unwrap();
    assert_eq!(chain.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), [&v1.id, &v2.id, &v3.id]);
    assert_eq!(
        status(&service::versions(&e.ctx, &UserId::from_trusted(BOB), &v3.scenario_id()).await.unwrap_err()),
        404
    );

    // Owner-checked: another user's scenario is not found; anonymous must sign in.
    let err = e.generator.regenerate(&e.ctx, Some(BOB), e.id(), &t, Some(&v1.id), &opts()).await.unwrap_err();
    assert_eq!(status(&err), 404);
    let err = e.generator.regenerate(&e.ctx, None, e.id(), &t, Some(&v1.id), &opts()).await.unwrap_err();
    assert_eq!(status(&err), 401);
    // Without a previous id: a fresh, unlinked scenario (anonymous: not saved).
    let loose = e.generator.regenerate(&e.ctx, None, e.id(), &t, None, &opts()).await.unwrap();
    assert!(!loose.saved && loose.scenario.version_of.is_none());
}
