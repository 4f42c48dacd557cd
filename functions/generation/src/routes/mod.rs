//! The generation routes. Each row below is one Lambda function; its handler
//! is the module of the same name. `JOBS` is this service's job kind.

pub mod batch;
pub mod continue_scenario;
pub mod generate;
pub mod job;
pub mod providers;
pub mod random;
pub mod regenerate;
pub mod tree;

use std::sync::Arc;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::jobs::JobKind;
use whatif_shared::ratelimit::RateClass;

use whatif_shared::context::AppContext;
use whatif_shared::routes::{Access, OUT_OF_CREDITS, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::{BoxFuture, Service};

/// The secret with the providers' keys (`WHATIF_MODEL_KEYS_SECRET`).
pub const MODEL_KEYS_SECRET: &str = whatif_shared::config::secrets::MODEL_KEYS;

/// What a function that calls the models needs: the keys, and Bedrock.
const MODELS: [Access; 2] = [Access::SecretRead(MODEL_KEYS_SECRET), Access::InvokeModel];

/// API Gateway gives up after 29 s; the chain's timeouts should fit in it.
const SYNC_TIMEOUT: u32 = 30;

pub const GENERATE: Route = Route::post("generation-generate", "/api/generate", handler!(generate::handle))
    .auth(AuthLevel::Optional)
    .rate(Some(RateClass::Generate))
    .idempotent()
    .memory(256)
    .timeout(SYNC_TIMEOUT)
    .max_body(8192)
    .access(&[Access::TableRead, Access::TableWrite, Access::QueueSend, MODELS[0], MODELS[1]])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<generate::GenerateBody>()),
        response: Some(|g| g.subschema_for::<generate::GenerateAnswer>()),
        accepted: Some(|g| g.subschema_for::<job::JobStarted>()),
        answers: &[OUT_OF_CREDITS],
        ..RouteDoc::new(
            "generation",
            "Generate a scenario (200), or queue it as a job (202 {jobId, status, pollUrl}) when signed in and async or long",
        )
    });

pub const RANDOM: Route = Route::get("generation-random", "/api/random", handler!(random::handle))
    .auth(AuthLevel::Optional)
    .rate(Some(RateClass::Generate))
    .memory(256)
    .timeout(SYNC_TIMEOUT)
    .access(&[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<random::RandomAnswer>()),
        query: &[
            QueryDoc::new(
                "promptType",
                "default, historical, scientific, social, fantasy, sci-fi, humor, horror-lite (random when absent)",
                Param::OneOf(&[
                    "default",
                    "historical",
                    "scientific",
                    "social",
                    "fantasy",
                    "sci-fi",
                    "humor",
                    "horror-lite",
                ]),
            ),
            QueryDoc::new(
                "language",
                "en or vi (default: the first of them in Accept-Language, else en)",
                Param::OneOf(&["en", "vi"]),
            ),
            QueryDoc::new("generate", "false: the topic alone, no scenario", Param::Boolean),
        ],
        answers: &[OUT_OF_CREDITS],
        ..RouteDoc::new("generation", "A random curated topic and a scenario generated for it")
    });

pub const REGENERATE: Route = Route::post("generation-regenerate", "/api/regenerate", handler!(regenerate::handle))
    .auth(AuthLevel::Optional)
    .rate(Some(RateClass::Generate))
    .memory(256)
    .timeout(SYNC_TIMEOUT)
    .max_body(8192)
    .access(&[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<regenerate::RegenerateBody>()),
        response: Some(|g| g.subschema_for::<generate::GenerateAnswer>()),
        accepted: Some(|g| g.subschema_for::<job::JobStarted>()),
        answers: &[(404, "previousScenarioId is not the caller's scenario"), OUT_OF_CREDITS],
        ..RouteDoc::new("generation", "A new version of a scenario, linked to the previous one (versionOf)")
    });

pub const BATCH: Route = Route::post("generation-batch", "/api/batch-generate", handler!(batch::handle))
    .rate(Some(RateClass::Generate))
    .idempotent()
    .memory(256)
    .max_body(16384)
    .access(&[Access::TableRead, Access::TableWrite, Access::QueueSend, MODELS[0], MODELS[1]])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<batch::BatchBody>()),
        response: Some(|g| g.subschema_for::<batch::BatchAnswer>()),
        success_status: 202,
        answers: &[OUT_OF_CREDITS],
        ..RouteDoc::new("generation", "Queue one generation job per topic (1–5)")
    });

pub const CONTINUE: Route =
    Route::post("generation-continue", "/api/scenarios/{id}/continue", handler!(continue_scenario::handle))
        .rate(Some(RateClass::Generate))
        .memory(256)
        .timeout(SYNC_TIMEOUT)
        .max_body(4096)
        .access(&[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]])
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<continue_scenario::ContinueBody>()),
            response: Some(|g| g.subschema_for::<continue_scenario::ContinueAnswer>()),
            success_status: 201,
            answers: &[OUT_OF_CREDITS],
            ..RouteDoc::new(
                "generation",
                "Continue the story down one of its choices (or a custom one): a child scenario",
            )
        });

pub const TREE: Route = Route::get("generation-tree", "/api/scenarios/{id}/tree", handler!(tree::handle))
    .auth(AuthLevel::Optional)
    .memory(256)
    .access(&[Access::TableRead])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<crate::service::Tree>()),
        ..RouteDoc::new(
            "generation",
            "The branch tree of a scenario from its root, with the path to it (owner, or public nodes)",
        )
    });

pub const PROVIDERS: Route =
    Route::get("generation-providers", "/api/generation/providers", handler!(providers::handle))
        .auth(AuthLevel::Optional)
        .access(&[MODELS[0]])
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<providers::ProvidersAnswer>()),
            ..RouteDoc::new("generation", "The configured model providers, in order, and their health (no secrets)")
        });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[GENERATE, RANDOM, REGENERATE, BATCH, CONTINUE, TREE, PROVIDERS];

/// This service's job kinds (run by the jobs worker).
pub const JOBS: &[JobKind] = &[job::JOB];

/// What a generation job touches: the scenario it writes, and the models.
pub const JOB_ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]];

/// The generation service: scenarios written by the models, and the engine
/// that calls them, built at start by the functions that may read the keys.
pub const SERVICE: Service = Service { routes: ROUTES, jobs: JOBS, start: Some(start), ..Service::new("generation") };

/// The start-up hook: a function that calls the models (it may read their
/// keys) builds the engine at init, so a bad model setting stops the start
/// rather than answer 500 later; the others have nothing to start.
fn start(ctx: Arc<AppContext>, access: &'static [Access]) -> BoxFuture<Result<(), String>> {
    Box::pin(async move {
        if access.contains(&MODELS[0]) {
            crate::engine::start(&ctx).await.map_err(|e| format!("generation: {e}"))?;
        }
        Ok(())
    })
}
