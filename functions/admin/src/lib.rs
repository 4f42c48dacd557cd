//! Admin and moderation (API.md, "Admin and moderation"): accounts and their
//! roles, status and credits; the report queue and the actions that really
//! happen; the audit log. Each row below is one Lambda function; its handler
//! is the module of the same name. Jobs and stats are `functions/operations`.
//! docs/admin.md describes moderation for the people who do it.

pub mod audit;
pub mod reports;
pub mod reports_list;
pub mod reports_update;
pub mod targets;
pub mod users_list;
pub mod users_update;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::routes::{self, Access, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::{Service, Trigger, Worker, WorkerRun};

const READ: &[Access] = &[Access::TableRead];
/// Moderation may remove a scenario for good, its exported and media files with it.
const MODERATE: &[Access] = whatif_shared::scenarios::store::PURGE_ACCESS;
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite];

const fn row(route: Route) -> Route {
    route.max_body(16384)
}

pub const USERS: Route = row(Route::get("admin-users-list", "/api/admin/users", handler!(users_list::handle)))
    .auth(AuthLevel::Admin)
    .access(READ)
    .doc(RouteDoc {
        query: &[
            QueryDoc::new(
                "search",
                "words of the email, username or name (case and accents ignored)",
                Param::Text { min: 0, max: 100 },
            ),
            QueryDoc::new("role", "only this role", Param::OneOf(&["user", "moderator", "admin"])),
            QueryDoc::new("status", "only this status", Param::OneOf(&["active", "suspended", "banned", "deleted"])),
            routes::PAGE,
            routes::LIMIT,
        ],
        response: Some(|g| g.subschema_for::<users_list::UserList>()),
        ..RouteDoc::new("admin", "Accounts, newest first: search, filter by role and status")
    });

pub const USER_UPDATE: Route =
    row(Route::patch("admin-users-update", "/api/admin/users/{userId}", handler!(users_update::handle)))
        .auth(AuthLevel::Admin)
        .access(WRITE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<users_update::UpdateBody>()),
            response: Some(|g| g.subschema_for::<users_update::UpdateAnswer>()),
            answers: &[
                (403, "The admin's own account (SELF_ACTION)"),
                (409, "The last active admin cannot be demoted, suspended or banned (LAST_ADMIN)"),
            ],
            ..RouteDoc::new("admin", "Change an account's role or status, or grant or take credits (audited)")
        });

pub const REPORTS: Route = row(Route::get("admin-reports-list", "/api/admin/reports", handler!(reports_list::handle)))
    .auth(AuthLevel::Moderator)
    .access(READ)
    .doc(RouteDoc {
        query: &[
            QueryDoc::new(
                "status",
                "open (default), resolved or dismissed",
                Param::OneOf(&["open", "resolved", "dismissed"]),
            ),
            QueryDoc::new("reason", "only cases reported for this reason", Param::OneOf(reports_list::REASONS)),
            QueryDoc::new(
                "targetType",
                "only this kind of target",
                Param::OneOf(&["scenario", "share", "post", "comment", "user"]),
            ),
            routes::PAGE,
            routes::LIMIT,
        ],
        response: Some(|g| g.subschema_for::<reports_list::Queue>()),
        ..RouteDoc::new("admin", "The moderation queue, highest priority first, each case with its target as it is now")
    });

pub const REPORT_UPDATE: Route =
    row(Route::patch("admin-reports-update", "/api/admin/reports/{reportId}", handler!(reports_update::handle)))
        .auth(AuthLevel::Moderator)
        .access(MODERATE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<reports_update::ResolveBody>()),
            answers: &[
                (403, "The moderator's own content, or a moderator acting on a moderator's or admin's account"),
                (409, "The case was already resolved (REPORT_CLOSED), or it is the last active admin"),
                (422, "The action does not apply to the target (ACTION_NOT_APPLICABLE, OWNER_GONE)"),
            ],
            ..RouteDoc::new("admin", "Resolve a case: dismiss, hide, remove, warn, suspend or ban (it really happens)")
        });

pub const AUDIT: Route = row(Route::get("admin-audit", "/api/admin/audit", handler!(audit::handle)))
    .auth(AuthLevel::Admin)
    .access(READ)
    .doc(RouteDoc {
        query: &[
            QueryDoc::new("actor", "an account id, or system", Param::Text { min: 1, max: 40 }),
            QueryDoc::new("targetType", "with targetId: one target's entries", Param::Text { min: 1, max: 20 }),
            QueryDoc::new("targetId", "with targetType", Param::Text { min: 1, max: 80 }),
            QueryDoc::new("action", "an action, or its family (report)", Param::Text { min: 1, max: 60 }),
            QueryDoc::new("from", "first day or time (default: 90 days before to)", Param::Day),
            QueryDoc::new("to", "last day or time (default: now); at most 2 years after from", Param::Day),
            routes::PAGE,
            routes::LIMIT,
            routes::CURSOR,
        ],
        response: Some(|g| g.subschema_for::<audit::AuditLog>()),
        ..RouteDoc::new("admin", "The append-only audit log, newest first")
    });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[USERS, USER_UPDATE, REPORTS, REPORT_UPDATE, AUDIT];

/// The hourly end of suspensions whose time ran out (an account that signs
/// in again ends its own sooner): their names come back to their content,
/// search and the leaderboards.
pub const SUSPENSIONS: Worker = Worker {
    function: "admin-suspensions",
    trigger: Trigger::Schedule { expression: "rate(1 hour)" },
    memory_mb: 256,
    timeout_seconds: 300,
    ephemeral_storage_mb: 512,
    access: WRITE,
    ffmpeg: false,
    description: "Ends suspensions whose time ran out",
    run: WorkerRun::Scheduled(|ctx| {
        Box::pin(async move {
            let ended = whatif_shared::accounts::roles::end_run_out_suspensions(&ctx).await?;
            Ok(format!("ended {ended} suspensions whose time ran out"))
        })
    }),
};

/// The admin service.
pub const SERVICE: Service = Service { routes: ROUTES, workers: &[SUSPENSIONS], ..Service::new("admin") };
