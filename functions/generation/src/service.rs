//! The service layer the generation routes call: generate, continue a story
//! down a branch, regenerate a new version, read a branch tree, and the
//! regenerate chain.
//!
//! Every generation runs: screen the request → the cache (new scenarios only)
//! → the provider chain → screen the output → build the [`Scenario`] → save it
//! to the caller's history when signed in (an anonymous caller gets it back,
//! unsaved).
//!
//! Errors are `ApiError`s: 422 `CONTENT_BLOCKED` (screen), 422
//! `CONTENT_REFUSED` / 503 (the chain), 404 `NOT_FOUND` for a scenario that is
//! missing or that the caller may not see (another user's private scenario is
//! never 403, so its existence does not leak), 400 for a bad choice.

use std::collections::HashMap;

use serde::Serialize;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::credits::{self, Charge, Spending};
use whatif_shared::error::{ApiError, ApiResult};
use whatif_shared::metrics::{Observation, Unit};
use whatif_shared::{ScenarioId, UserId};

use crate::cache::{self, CachedGeneration};
use crate::chain::{Generation, GenerationError, ProviderChain};
use crate::prices::Prices;
use crate::prompts::{self, PROMPT_VERSION};
use crate::provider::{ModelRequest, TokenUsage};
use crate::scenario::{GeneratedScenario, GenerationOptions, ParentContext, ScenarioSpec, Tone, Topic};
use crate::screen::Screen;
pub use whatif_shared::scenarios::store::versions;
use whatif_shared::scenarios::store::{self, Scenario};

/// The deepest a branch may go (a root is depth 0).
pub const MAX_DEPTH: u32 = 50;

/// What a generate or regenerate request gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub scenario: Scenario,
    /// Served from the generation cache (no model call, no tokens spent now).
    pub cached: bool,
    /// Saved to the caller's history (signed in).
    pub saved: bool,
}

/// The branch a continuation follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// One of the parent's choices, by id (`choiceId`).
    Choice(String),
    /// The caller's own next step (`customChoice`): the rules of a topic, and screened like one.
    Custom(String),
}

/// A branch tree as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    pub root_id: String,
    /// The scenario asked for.
    pub id: String,
    /// Ids from the root (or the highest ancestor the caller may see) down to `id`.
    pub path: Vec<String>,
    /// Every node the caller may see, by depth then age; `parentId` links them.
    pub nodes: Vec<Scenario>,
}

/// The generation engine: the provider chain and the screen, built once per
/// cold start and shared by every request.
pub struct Generator {
    pub chain: ProviderChain,
    pub screen: Screen,
    pub prices: Prices,
}

impl Generator {
    pub fn new(chain: ProviderChain, screen: Screen) -> Self {
        Generator { chain, screen, prices: Prices::default() }
    }

    pub fn with_prices(mut self, prices: Prices) -> Self {
        self.prices = prices;
        self
    }

    fn provider_names(&self) -> Vec<String> {
        self.chain.providers().into_iter().map(|p| p.name).collect()
    }

    /// A new scenario `id` for `topic`. `caller` is the signed-in user's id,
    /// if any; a signed-in caller pays for it (402 before any model call when
    /// the balance cannot), with the scenario's save.
    pub async fn generate(
        &self,
        ctx: &AppContext,
        caller: Option<&str>,
        id: String,
        topic: &Topic,
        options: &GenerationOptions,
    ) -> ApiResult<Generated> {
        self.generate_billed(ctx, caller, id, topic, options, Some(Spending::Generation)).await
    }

    /// [`Generator::generate`] for a job that was paid for when it was queued.
    pub async fn generate_prepaid(
        &self,
        ctx: &AppContext,
        caller: Option<&str>,
        id: String,
        topic: &Topic,
        options: &GenerationOptions,
    ) -> ApiResult<Generated> {
        self.generate_billed(ctx, caller, id, topic, options, None).await
    }

    async fn generate_billed(
        &self,
        ctx: &AppContext,
        caller: Option<&str>,
        id: String,
        topic: &Topic,
        options: &GenerationOptions,
        spending: Option<Spending>,
    ) -> ApiResult<Generated> {
        self.screen.check("topic", topic.as_str())?;
        let charge = paid_by(ctx, caller, spending, &id).await?;
        let spec = options.resolve(topic.clone());
        let key = cache::cache_key(&spec, &self.provider_names(), PROMPT_VERSION);
        let hit = if options.force_new { None } else { cache::read(ctx, &key).await };
        let (written, cached) = match hit {
            // The blocklist may have grown since the entry was written.
            Some(entry) if self.screen.check_output(&entry.scenario).is_ok() => (entry, true),
            _ => {
                let started = std::time::Instant::now();
                let generation = self.chain.generate(&spec, None).await.map_err(ApiError::from)?;
                self.record(ctx, &generation, started).await;
                self.screen.check_output(&generation.scenario)?;
                let entry = CachedGeneration::new(
                    generation.scenario,
                    &generation.provider,
                    &generation.model,
                    generation.usage,
                    generation.prompt_version,
                    ctx,
                );
                cache::write(ctx, &key, &entry).await;
                (entry, false)
            }
        };
        let cost_usd = self.prices.cost(&written.provider, written.tokens);
        let scenario = build(
            ctx,
            Draft {
                id: id.clone(),
                owner_id: caller.unwrap_or_default().to_string(),
                spec: &spec,
                cost_usd,
                written: written.scenario,
                provider: written.provider,
                model: written.model,
                tokens: written.tokens,
                prompt_version: written.prompt_version,
                parent_id: None,
                root_id: id,
                depth: 0,
                version_of: None,
            },
        );
        let saved = self.save_for(ctx, caller, &scenario, charge.as_ref()).await?;
        Ok(Generated { scenario, cached, saved })
    }

    /// A child of the caller's scenario `parent_id` that continues the story
    /// down `next`. Saved to the caller's history.
    pub async fn continue_from(
        &self,
        ctx: &AppContext,
        user_id: &str,
        id: String,
        parent_id: &str,
        next: NextStep,
    ) -> ApiResult<Scenario> {
        let parent = owned(ctx, Some(user_id), parent_id, "Only the owner can continue this scenario").await?;
        let choice = match next {
            NextStep::Choice(id) => match parent.choices.iter().find(|c| c.id == id.trim()) {
                Some(choice) => choice.text.clone(),
                None => {
                    let ids: Vec<_> = parent.choices.iter().map(|c| c.id.as_str()).collect();
                    return Err(ApiError::validation(
                        "choiceId",
                        format!("the scenario has no choice {id:?}; use one of {}", ids.join(", ")),
                    ));
                }
            },
            NextStep::Custom(text) => {
                let text = Topic::parse(&text).map_err(|e| ApiError::validation("customChoice", e))?;
                self.screen.check("customChoice", text.as_str())?;
                text.as_str().to_string()
            }
        };
        if parent.depth + 1 > MAX_DEPTH {
            return Err(ApiError::unprocessable(
                "TREE_TOO_DEEP",
                format!("A story can branch at most {MAX_DEPTH} levels deep"),
            ));
        }
        let options = GenerationOptions {
            prompt_type: parent.prompt_type,
            length: parent.length,
            language: Some(parent.language),
            tone: parent.tone.as_deref().and_then(|t| Tone::parse(t).ok()),
            ..Default::default()
        };
        let topic = Topic::parse(&parent.topic).map_err(|e| ApiError::internal(format!("stored topic: {e}")))?;
        let spec = options.resolve(topic);
        let context = ParentContext { title: parent.title.clone(), summary: parent.summary.clone(), choice };
        let charge = paid_by(ctx, Some(user_id), Some(Spending::Continuation), &id).await?;
        let (written, provider, model, tokens) = self.run(ctx, &spec, Some(context), &id).await?;
        let scenario = build(
            ctx,
            Draft {
                id,
                owner_id: user_id.to_string(),
                spec: &spec,
                cost_usd: self.prices.cost(&provider, tokens),
                written,
                provider,
                model,
                tokens,
                prompt_version: PROMPT_VERSION.to_string(),
                parent_id: Some(parent.id.clone()),
                root_id: parent.root_id.clone(),
                depth: parent.depth + 1,
                version_of: None,
            },
        );
        store::save_child_paid(ctx, &scenario, charge.as_ref()).await?;
        Ok(scenario)
    }

    /// A new version of a scenario: always a fresh model call (no cache), linked
    /// by `versionOf` to `previous_id` (which must be the caller's). The new
    /// version is the root of its own tree. Saved when signed in.
    pub async fn regenerate(
        &self,
        ctx: &AppContext,
        caller: Option<&str>,
        id: String,
        topic: &Topic,
        previous_id: Option<&str>,
        options: &GenerationOptions,
    ) -> ApiResult<Generated> {
        self.screen.check("topic", topic.as_str())?;
        let previous = match previous_id {
            None => None,
            Some(_) if caller.is_none() => {
                return Err(ApiError::unauthorized("Sign in to regenerate a saved scenario"));
            }
            Some(id) => Some(owned(ctx, caller, id, "Only the owner can regenerate this scenario").await?),
        };
        let spec = options.resolve(topic.clone());
        let charge = paid_by(ctx, caller, Some(Spending::Regeneration), &id).await?;
        let (written, provider, model, tokens) = self.run(ctx, &spec, None, &id).await?;
        let scenario = build(
            ctx,
            Draft {
                id: id.clone(),
                owner_id: caller.unwrap_or_default().to_string(),
                spec: &spec,
                cost_usd: self.prices.cost(&provider, tokens),
                written,
                provider,
                model,
                tokens,
                prompt_version: PROMPT_VERSION.to_string(),
                parent_id: None,
                root_id: id,
                depth: 0,
                version_of: previous.map(|p| p.id),
            },
        );
        let saved = self.save_for(ctx, caller, &scenario, charge.as_ref()).await?;
        Ok(Generated { scenario, cached: false, saved })
    }

    /// One model call for `spec` (continuing `parent`), its seed varied by the
    /// new scenario's id so that versions and branches differ; the output is screened.
    async fn run(
        &self,
        ctx: &AppContext,
        spec: &ScenarioSpec,
        parent: Option<ParentContext>,
        id: &str,
    ) -> ApiResult<(GeneratedScenario, String, String, TokenUsage)> {
        let prompt = prompts::build(spec, parent.as_ref()).map_err(|e| ApiError::from(GenerationError::from(e)))?;
        let mut request = ModelRequest::new(spec.clone(), parent, prompt);
        request.seed ^= fnv(id.as_bytes());
        let started = std::time::Instant::now();
        let generation = self.chain.run(request).await.map_err(ApiError::from)?;
        self.record(ctx, &generation, started).await;
        self.screen.check_output(&generation.scenario)?;
        Ok((generation.scenario, generation.provider, generation.model, generation.usage))
    }

    /// One metric observation per model answer (CloudWatch EMF in Lambda):
    /// tokens, latency and cost (when priced) by provider, with the model,
    /// repair and fall-throughs; and its tokens and cost on the platform's
    /// usage counters (the admin's stats).
    async fn record(&self, ctx: &AppContext, generation: &Generation, started: std::time::Instant) {
        let cost = self.prices.cost(&generation.provider, generation.usage);
        let mut observation = Observation::new("generation")
            .dimension("provider", generation.provider.as_str())
            .value("PromptTokens", f64::from(generation.usage.prompt), Unit::Count)
            .value("CompletionTokens", f64::from(generation.usage.completion), Unit::Count)
            .value("TotalTokens", f64::from(generation.usage.total), Unit::Count)
            .value("ModelLatency", started.elapsed().as_secs_f64() * 1000.0, Unit::Milliseconds)
            .value("Fallbacks", generation.attempts.len() as f64, Unit::Count)
            .value("Repairs", f64::from(u8::from(generation.repaired)), Unit::Count)
            .property("model", generation.model.as_str());
        if let Some(cost) = cost {
            observation = observation.value("CostUsd", cost, Unit::None);
        }
        observation.emit();
        whatif_shared::stats::record_usage(ctx, &generation.provider, generation.usage.total, cost).await;
    }

    async fn save_for(
        &self,
        ctx: &AppContext,
        caller: Option<&str>,
        scenario: &Scenario,
        charge: Option<&Charge>,
    ) -> ApiResult<bool> {
        if caller.is_none() {
            return Ok(false);
        }
        store::save_paid(ctx, scenario, charge).await?;
        Ok(true)
    }
}

/// What a signed-in caller pays for the scenario `id` (None: anonymous, or
/// paid for already), after checking that the balance can pay it: 402
/// before any model call. The debit itself goes with the scenario's save.
async fn paid_by(
    ctx: &AppContext,
    caller: Option<&str>,
    spending: Option<Spending>,
    id: &str,
) -> ApiResult<Option<Charge>> {
    let (Some(user), Some(spending)) = (caller, spending) else { return Ok(None) };
    let charge = Charge::new(ctx, spending, id);
    if charge.credits > 0 {
        credits::ensure_can_spend(ctx, &UserId::from_trusted(user), charge.credits).await?;
    }
    Ok(Some(charge))
}

/// The branch tree of scenario `id`, for the owner or, when the scenario is
/// public, for anyone (who then sees only the tree's public nodes). 404 when
/// missing or not visible.
pub async fn tree(ctx: &AppContext, caller: Option<&str>, id: &str) -> ApiResult<Tree> {
    // The caller's id is a verified token's; `id` a ULID the route parsed.
    let caller = caller.map(UserId::from_trusted);
    let asked = ScenarioId::from_trusted(id);
    // Most trees are asked for by their root: its tree is read beside it (and
    // dropped unless the node is visible), and read again only for a node that is not.
    let (node, nodes) =
        futures::try_join!(store::get_visible(ctx, caller.as_ref(), &asked), store::tree_nodes(ctx, &asked))?;
    let nodes =
        if node.root().as_str() == asked.as_str() { nodes } else { store::tree_nodes(ctx, &node.root()).await? };
    let owner = node.is_owned_by(caller.as_ref());
    let mut nodes: Vec<Scenario> = nodes.into_iter().filter(|n| owner || n.is_public).collect();
    // The index is eventually consistent on DynamoDB: a node just written may be missing.
    if !nodes.iter().any(|n| n.id == node.id) {
        nodes.push(node.clone());
        nodes.sort_by(|a, b| (a.depth, &a.id).cmp(&(b.depth, &b.id)));
    }
    let by_id: HashMap<&str, &Scenario> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut path = vec![node.id.clone()];
    let mut at = &node;
    while let Some(parent) = at.parent_id.as_deref().and_then(|p| by_id.get(p)) {
        if path.len() > nodes.len() {
            break; // a cycle would be a bug; never loop on it
        }
        path.push(parent.id.clone());
        at = parent;
    }
    path.reverse();
    Ok(Tree { root_id: node.root_id.clone(), id: node.id.clone(), path, nodes })
}

/// The caller's scenario `id`; 403 `forbidden` when it is someone else's public
/// one (visible, but not theirs to change), 404 when missing or private.
async fn owned(ctx: &AppContext, caller: Option<&str>, id: &str, forbidden: &str) -> ApiResult<Scenario> {
    let id = &ScenarioId::from_trusted(id);
    if let Some(user) = caller
        && let Some(own) = store::get_owned(ctx, &UserId::from_trusted(user), id).await?
    {
        return Ok(own);
    }
    match store::get_by_id(ctx, id).await? {
        Some(s) if s.is_public => Err(ApiError::forbidden(forbidden)),
        _ => Err(ApiError::not_found("Scenario")),
    }
}

struct Draft<'a> {
    id: String,
    owner_id: String,
    spec: &'a ScenarioSpec,
    cost_usd: Option<f64>,
    written: GeneratedScenario,
    provider: String,
    model: String,
    tokens: TokenUsage,
    prompt_version: String,
    parent_id: Option<String>,
    root_id: String,
    depth: u32,
    version_of: Option<String>,
}

fn build(ctx: &AppContext, d: Draft<'_>) -> Scenario {
    let now = rfc3339(ctx.clock.now());
    Scenario {
        id: d.id,
        owner_id: d.owner_id,
        topic: d.spec.topic.as_str().to_string(),
        title: d.written.title().to_string(),
        summary: d.written.summary().to_string(),
        content: d.written.content().to_string(),
        sections: d.written.sections().to_vec(),
        choices: d.written.choices().to_vec(),
        prompt_type: d.spec.prompt_type,
        language: d.spec.language,
        length: d.spec.length,
        tone: d.spec.tone.as_ref().map(|t| t.as_str().to_string()),
        provider: d.provider,
        model: d.model,
        tokens: d.tokens,
        cost_usd: d.cost_usd,
        parent_id: d.parent_id,
        root_id: d.root_id,
        depth: d.depth,
        version_of: d.version_of,
        tags: Vec::new(),
        is_favorite: false,
        rating: None,
        is_public: false,
        view_count: 0,
        share_count: 0,
        is_hidden: false,
        prompt_version: d.prompt_version,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
        deleted_at: None,
        published_at: None,
    }
}

/// FNV-1a, 64 bits: a stable seed from an id.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
