//! Platform routes: liveness with dependency checks, and the OpenAPI document.

pub mod health;
pub mod openapi;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::routes::{Access, Route, RouteDoc};
use whatif_shared::service::Service;

pub const HEALTH: Route = Route::get("health", "/health", handler!(health::handle))
    .auth(AuthLevel::None)
    .rate(None)
    .access(&[Access::HealthChecks])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<health::HealthReport>()),
        ..RouteDoc::new(
            "platform",
            "Liveness, with checks of the table, the blob store and the queue (503 when one fails)",
        )
    });

pub const OPENAPI: Route = Route::get("openapi", "/openapi.json", handler!(openapi::handle))
    .auth(AuthLevel::None)
    .rate(None)
    .timeout(5)
    .doc(RouteDoc { raw: true, ..RouteDoc::new("platform", "This OpenAPI 3.1 document") });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[HEALTH, OPENAPI];

/// The platform service: liveness and the API's own description.
pub const SERVICE: Service = Service { routes: ROUTES, ..Service::new("platform") };
