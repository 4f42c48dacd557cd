//! Operations (API.md, "Admin"): the platform's stats from counters kept as
//! things happen, and every job by status, with retry of a failed one and
//! cancel of a queued or running one. Admins only. Each row below is one
//! Lambda function; its handler is the module of the same name. docs/admin.md
//! ("Jobs and stats") explains the design.

pub mod admin_job;
pub mod jobs_cancel;
pub mod jobs_list;
pub mod jobs_retry;
pub mod stats;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::routes::{self, Access, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::Service;

const READ: &[Access] = &[Access::TableRead];
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite, Access::QueueSend];

/// An admin row: small bodies (the actions take none).
const fn row(route: Route) -> Route {
    route.auth(AuthLevel::Admin).max_body(1024)
}

pub const STATS: Route = row(Route::get("admin-stats", "/api/admin/stats", handler!(stats::handle))).access(READ).doc(
    RouteDoc {
        query: &[QueryDoc::new(
            "days",
            "how many days of model usage, today included (1–366, default 30)",
            Param::Integer { min: 1, max: 366 },
        )],
        response: Some(|g| g.subschema_for::<stats::Stats>()),
        ..RouteDoc::new(
            "admin",
            "Users by status and role, scenarios, jobs by status, tokens and cost by provider and day, reports by status",
        )
    },
);

pub const JOBS_LIST: Route =
    row(Route::get("admin-jobs-list", "/api/admin/jobs", handler!(jobs_list::handle))).access(READ).doc(RouteDoc {
        query: &[
            QueryDoc::new("status", "the jobs in this status", Param::OneOf(jobs_list::STATUSES)).required(),
            QueryDoc::new(
                "type",
                "only jobs of this kind (e.g. generation, video)",
                Param::Pattern { pattern: "^[a-z0-9-]{1,64}$", max: 64 },
            ),
            routes::PAGE,
            routes::LIMIT,
            routes::CURSOR,
        ],
        response: Some(|g| g.subschema_for::<jobs_list::JobList>()),
        ..RouteDoc::new("admin", "Jobs in one status, newest first, optionally of one kind")
    });

pub const JOBS_RETRY: Route =
    row(Route::post("admin-jobs-retry", "/api/admin/jobs/{jobId}/retry", handler!(jobs_retry::handle)))
        .access(WRITE)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<jobs_retry::RetryAnswer>()),
            answers: &[
                (402, "The job's charge was refunded and its owner cannot pay it again"),
                (404, "No such job"),
                (409, "The job is not failed (JOB_NOT_FAILED)"),
            ],
            ..RouteDoc::new("admin", "Run a failed job again from the start (charged once in total)")
        });

pub const JOBS_CANCEL: Route =
    row(Route::post("admin-jobs-cancel", "/api/admin/jobs/{jobId}/cancel", handler!(jobs_cancel::handle)))
        .access(&[Access::TableRead, Access::TableWrite])
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<admin_job::AdminJob>()),
            answers: &[(404, "No such job"), (409, "The job has already finished (JOB_FINISHED)")],
            ..RouteDoc::new("admin", "Cancel a queued or running job (its charge is refunded)")
        });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[STATS, JOBS_LIST, JOBS_RETRY, JOBS_CANCEL];

/// The operations service: what admins see of the platform and its jobs.
pub const SERVICE: Service = Service { routes: ROUTES, ..Service::new("operations") };
