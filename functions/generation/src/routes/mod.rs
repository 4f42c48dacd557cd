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

use http::Method;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::jobs::JobKind;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, QueryDoc, Route, RouteDoc};

/// The secret with the providers' keys (`WHATIF_MODEL_KEYS_SECRET`).
pub const MODEL_KEYS_SECRET: &str = whatif_shared::config::secrets::MODEL_KEYS;

/// What a function that calls the models needs: the keys, and Bedrock.
const MODELS: [Access; 2] = [Access::SecretRead(MODEL_KEYS_SECRET), Access::InvokeModel];

/// API Gateway gives up after 29 s; the chain's timeouts should fit in it.
const SYNC_TIMEOUT: u32 = 30;

pub const GENERATE: Route = Route {
    function: "generation-generate",
    method: Method::POST,
    path: "/api/generate",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::Generate),
    idempotent: true,
    memory_mb: 256,
    timeout_secs: SYNC_TIMEOUT,
    max_body: Some(8192),
    access: &[Access::TableRead, Access::TableWrite, Access::QueueSend, MODELS[0], MODELS[1]],
    handler: handler!(generate::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<generate::GenerateBody>()),
        response: Some(|g| g.subschema_for::<generate::GenerateAnswer>()),
        ..RouteDoc::new(
            "generation",
            "Generate a scenario (200), or queue it as a job (202 {jobId, status, pollUrl}) when signed in and async or long",
        )
    },
};

pub const RANDOM: Route = Route {
    function: "generation-random",
    method: Method::GET,
    path: "/api/random",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::Generate),
    idempotent: false,
    memory_mb: 256,
    timeout_secs: SYNC_TIMEOUT,
    max_body: None,
    access: &[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]],
    handler: handler!(random::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<random::RandomAnswer>()),
        query: &[
            QueryDoc {
                name: "promptType",
                description: "default, historical, scientific, social, fantasy, sci-fi, humor, horror-lite (random when absent)",
                required: false,
            },
            QueryDoc {
                name: "language",
                description: "en or vi (default: the first of them in Accept-Language, else en)",
                required: false,
            },
            QueryDoc { name: "generate", description: "false: the topic alone, no scenario", required: false },
        ],
        ..RouteDoc::new("generation", "A random curated topic and a scenario generated for it")
    },
};

pub const REGENERATE: Route = Route {
    function: "generation-regenerate",
    method: Method::POST,
    path: "/api/regenerate",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::Generate),
    idempotent: false,
    memory_mb: 256,
    timeout_secs: SYNC_TIMEOUT,
    max_body: Some(8192),
    access: &[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]],
    handler: handler!(regenerate::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<regenerate::RegenerateBody>()),
        response: Some(|g| g.subschema_for::<generate::GenerateAnswer>()),
        ..RouteDoc::new("generation", "A new version of a scenario, linked to the previous one (versionOf)")
    },
};

pub const BATCH: Route = Route {
    function: "generation-batch",
    method: Method::POST,
    path: "/api/batch-generate",
    auth: AuthLevel::User,
    rate: Some(RateClass::Generate),
    idempotent: true,
    memory_mb: 256,
    timeout_secs: 10,
    max_body: Some(16384),
    access: &[Access::TableRead, Access::TableWrite, Access::QueueSend, MODELS[0], MODELS[1]],
    handler: handler!(batch::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<batch::BatchBody>()),
        response: Some(|g| g.subschema_for::<batch::BatchAnswer>()),
        success_status: 202,
        ..RouteDoc::new("generation", "Queue one generation job per topic (1–5)")
    },
};

pub const CONTINUE: Route = Route {
    function: "generation-continue",
    method: Method::POST,
    path: "/api/scenarios/{id}/continue",
    auth: AuthLevel::User,
    rate: Some(RateClass::Generate),
    idempotent: false,
    memory_mb: 256,
    timeout_secs: SYNC_TIMEOUT,
    max_body: Some(4096),
    access: &[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]],
    handler: handler!(continue_scenario::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<continue_scenario::ContinueBody>()),
        response: Some(|g| g.subschema_for::<continue_scenario::ContinueAnswer>()),
        success_status: 201,
        ..RouteDoc::new("generation", "Continue the story down one of its choices (or a custom one): a child scenario")
    },
};

pub const TREE: Route = Route {
    function: "generation-tree",
    method: Method::GET,
    path: "/api/scenarios/{id}/tree",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 256,
    timeout_secs: 10,
    max_body: None,
    access: &[Access::TableRead],
    handler: handler!(tree::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<crate::service::Tree>()),
        ..RouteDoc::new(
            "generation",
            "The branch tree of a scenario from its root, with the path to it (owner, or public nodes)",
        )
    },
};

pub const PROVIDERS: Route = Route {
    function: "generation-providers",
    method: Method::GET,
    path: "/api/generation/providers",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: None,
    access: &[MODELS[0]],
    handler: handler!(providers::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<providers::ProvidersAnswer>()),
        ..RouteDoc::new("generation", "The configured model providers, in order, and their health (no secrets)")
    },
};

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[GENERATE, RANDOM, REGENERATE, BATCH, CONTINUE, TREE, PROVIDERS];

/// This service's job kinds (run by the jobs worker).
pub const JOBS: &[JobKind] = &[job::JOB];

/// What the worker needs for these jobs (for its IAM policy).
pub const JOB_ACCESS: &[Access] = &[Access::TableRead, Access::TableWrite, MODELS[0], MODELS[1]];
