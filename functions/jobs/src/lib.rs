//! Job routes. Each row below is one Lambda function.

pub mod cancel;
pub mod get;

use http::Method;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, Route, RouteDoc};

pub const GET: Route = Route {
    function: "jobs-get",
    method: Method::GET,
    path: "/api/jobs/{jobId}",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: None,
    access: &[Access::TableRead, Access::BlobRead("exports/")],
    handler: handler!(get::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<whatif_shared::jobs::JobRecord>()),
        ..RouteDoc::new("jobs", "A job's status, progress and result (owner only)")
    },
};

pub const CANCEL: Route = Route {
    function: "jobs-cancel",
    method: Method::POST,
    path: "/api/jobs/{jobId}/cancel",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(1024),
    access: &[Access::TableRead, Access::TableWrite],
    handler: handler!(cancel::handle),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<whatif_shared::jobs::JobRecord>()),
        ..RouteDoc::new("jobs", "Stop a queued or running job (owner only); finished work is kept")
    },
};

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[GET, CANCEL];
