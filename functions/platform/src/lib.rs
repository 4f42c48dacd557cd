//! Platform routes: liveness with dependency checks, and the OpenAPI document.

pub mod health;
pub mod openapi;

use http::Method;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::routes::{Access, Route, RouteDoc};

pub const HEALTH: Route = Route {
    function: "health",
    method: Method::GET,
    path: "/health",
    auth: AuthLevel::None,
    rate: None,
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: None,
    access: &[Access::HealthChecks],
    handler: handler!(health::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<health::HealthReport>()),
        ..RouteDoc::new(
            "platform",
            "Liveness, with checks of the table, the blob store and the queue (503 when one fails)",
        )
    },
};

pub const OPENAPI: Route = Route {
    function: "openapi",
    method: Method::GET,
    path: "/openapi.json",
    auth: AuthLevel::None,
    rate: None,
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 5,
    max_body: None,
    access: &[],
    handler: handler!(openapi::handle),
    doc: RouteDoc { raw: true, ..RouteDoc::new("platform", "This OpenAPI 3.1 document") },
};

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[HEALTH, OPENAPI];
