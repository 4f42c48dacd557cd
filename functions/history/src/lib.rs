//! Scenario history routes (API.md, "History"). Each row below is one Lambda
//! function; its handler is the module of the same name (`export_file` for
//! `/export`, whose renderers are in `export`). `purge` is the scheduled
//! worker that removes scenarios deleted over 30 days ago.

pub mod bulk;
pub mod data;
pub mod delete;
pub mod export;
pub mod export_file;
pub mod fields;
pub mod get;
pub mod lifecycle;
pub mod list;
pub mod listing;
pub mod restore;
pub mod search;
pub mod stats;
pub mod update;
pub mod versions;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::keys;
use whatif_shared::routes::{Access, CURSOR, HeaderDoc, LIMIT, PAGE, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::{Service, Trigger, Worker, WorkerRun};
use whatif_shared::{ApiError, ApiRequest, ApiResult};

const PROMPT_TYPES: &[&str] =
    &["default", "historical", "scientific", "social", "fantasy", "sci-fi", "humor", "horror-lite"];

const LISTING_QUERY: [QueryDoc; 10] = [
    PAGE,
    LIMIT,
    CURSOR,
    QueryDoc::new(
        "sort",
        "createdAt (default), updatedAt, rating, viewCount",
        Param::OneOf(&["createdAt", "updatedAt", "rating", "viewCount"]),
    ),
    QueryDoc::new("order", "desc (default) or asc", Param::OneOf(&["desc", "asc"])),
    QueryDoc::new("promptType", "only this promptType", Param::OneOf(PROMPT_TYPES)),
    QueryDoc::new("isFavorite", "true or false", Param::Boolean),
    QueryDoc::new(
        "tags",
        "comma-separated, at most 20; every one must be on the scenario",
        Param::Text { min: 0, max: 1000 },
    ),
    QueryDoc::new("dateFrom", "created on or after (2026-11-27 or RFC 3339)", Param::Day),
    QueryDoc::new("dateTo", "created on or before (a date counts whole)", Param::Day),
];

const SEARCH_QUERY: [QueryDoc; 11] = [
    QueryDoc::new(
        "q",
        "1–100 characters with a letter or digit; case and diacritics do not matter",
        Param::Text { min: 1, max: 100 },
    )
    .required(),
    LISTING_QUERY[0],
    LISTING_QUERY[1],
    LISTING_QUERY[2],
    LISTING_QUERY[3],
    LISTING_QUERY[4],
    LISTING_QUERY[5],
    LISTING_QUERY[6],
    LISTING_QUERY[7],
    LISTING_QUERY[8],
    LISTING_QUERY[9],
];

/// A history row: 256 MB (the listing and search hold pages of items) and a
/// 16 KiB body limit; the rest as every row.
const fn row(route: Route) -> Route {
    route.memory(256).max_body(16384)
}

const READ: &[Access] = &[Access::TableRead];
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite];

pub const LIST: Route =
    row(Route::get("history-list", "/api/scenarios/my", handler!(list::handle))).access(READ).doc(RouteDoc {
        query: &LISTING_QUERY,
        ..RouteDoc::new("history", "My scenarios (without their text): filtered, sorted, paged")
    });

pub const SEARCH: Route =
    row(Route::get("history-search", "/api/scenarios/search", handler!(search::handle))).access(READ).doc(RouteDoc {
        query: &SEARCH_QUERY,
        ..RouteDoc::new("history", "Search my scenarios' title, topic, tags and content")
    });

pub const STATS: Route =
    row(Route::get("history-stats", "/api/scenarios/stats", handler!(stats::handle))).access(READ).doc(RouteDoc {
        response: Some(|g| g.subschema_for::<stats::StatsAnswer>()),
        ..RouteDoc::new("history", "Counts over my scenarios")
    });

pub const BULK: Route =
    row(Route::patch("history-bulk", "/api/scenarios/bulk", handler!(bulk::handle))).access(WRITE).doc(RouteDoc {
        request: Some(|g| g.subschema_for::<bulk::BulkBody>()),
        response: Some(|g| g.subschema_for::<bulk::BulkAnswer>()),
        ..RouteDoc::new("history", "One operation on up to 50 of my scenarios")
    });

pub const GET: Route = row(Route::get("history-get", "/api/scenarios/{id}", handler!(get::handle)))
    .auth(AuthLevel::Optional)
    .access(WRITE)
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<ScenarioAnswer<whatif_shared::scenarios::Scenario>>()),
        ..RouteDoc::new("history", "A scenario: its owner's (with an ETag), or a public one (counts a view)")
    });

pub const UPDATE: Route =
    row(Route::patch("history-update", "/api/scenarios/{id}", handler!(update::handle))).access(WRITE).doc(RouteDoc {
        request: Some(|g| g.subschema_for::<update::UpdateBody>()),
        response: Some(|g| g.subschema_for::<ScenarioAnswer<whatif_shared::scenarios::Scenario>>()),
        headers: &[HeaderDoc {
            name: "If-Match",
            description: "the scenario's ETag (\"3\"), from GET: the change applies only to that version (409 otherwise); * is any",
            schema: Param::Text { min: 1, max: 64 },
        }],
        answers: &[(409, "The scenario changed since that version (VERSION_MISMATCH)")],
        ..RouteDoc::new("history", "Change my scenario's title, tags, favourite, rating or visibility (If-Match)")
    });

pub const DELETE: Route = row(Route::delete("history-delete", "/api/scenarios/{id}", handler!(delete::handle)))
    .access(WRITE)
    .doc(RouteDoc::new("history", "Delete my scenario (restorable for 30 days)"));

pub const RESTORE: Route =
    row(Route::post("history-restore", "/api/scenarios/{id}/restore", handler!(restore::handle))).access(WRITE).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<ScenarioAnswer<whatif_shared::scenarios::Scenario>>()),
            answers: &[(409, "The scenario is not deleted (NOT_DELETED)")],
            ..RouteDoc::new("history", "Undo a delete within 30 days")
        },
    );

pub const VERSIONS: Route =
    row(Route::get("history-versions", "/api/scenarios/{id}/versions", handler!(versions::handle)))
        .access(READ)
        .doc(RouteDoc::new("history", "The regenerate chain of my scenario, oldest first"));

pub const EXPORT: Route = Route::get("history-export", "/api/scenarios/{id}/export", handler!(export_file::handle))
    .auth(AuthLevel::Optional)
    .memory(512)
    .timeout(20)
    .access(&[Access::TableRead, Access::BlobRead(keys::EXPORTS), Access::BlobWrite(keys::EXPORTS)])
    .doc(RouteDoc {
        query: &[QueryDoc::new(
            "format",
            "md (default), json, txt, pdf, epub",
            Param::OneOf(&["md", "json", "txt", "pdf", "epub"]),
        )],
        raw: true,
        // The file itself; or, when large, `{success, data: {url, expiresAt}}` as JSON.
        content: &["text/markdown", "application/json", "text/plain", "application/pdf", "application/epub+zip"],
        ..RouteDoc::new("history", "The scenario as a file (attachment), or a download link for large files")
    });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[LIST, SEARCH, STATS, BULK, GET, UPDATE, DELETE, RESTORE, VERSIONS, EXPORT];

/// The scheduled purge of scenarios deleted over 30 days ago: their items and
/// markers, their exported files (listed and deleted under `exports/`), and
/// their videos and narrations (`media/`).
pub const PURGE: Worker = Worker {
    function: "history-purge",
    trigger: Trigger::Schedule { expression: "rate(1 hour)" },
    memory_mb: 256,
    timeout_seconds: 300,
    ephemeral_storage_mb: 512,
    access: whatif_shared::scenarios::store::PURGE_ACCESS,
    ffmpeg: false,
    description: "Purges scenarios deleted over 30 days ago",
    run: WorkerRun::Scheduled(|ctx| {
        Box::pin(async move {
            let purged = lifecycle::purge_expired(&ctx).await?;
            Ok(format!("purged {purged} scenarios deleted over 30 days ago"))
        })
    }),
};

/// The history service: my scenarios over time, and what they are exported as.
pub const SERVICE: Service =
    Service { routes: ROUTES, workers: &[PURGE], owns: data::OWNERS, ..Service::new("history") };

/// The `ETag` of a scenario version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// `{scenario}`: how the web client reads one scenario (`GET`, `PATCH`, restore).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ScenarioAnswer<T> {
    pub scenario: T,
}

/// The version a change is based on: `If-Match` (`"3"`, `W/"3"`; `*` is any)
/// or the body's `version`; they must agree when both are given.
pub fn expected_version(req: &ApiRequest, body: Option<u64>) -> ApiResult<Option<u64>> {
    let header = match req.header("if-match").map(str::trim) {
        None | Some("*") => None,
        Some(raw) => {
            let bare = raw.trim_start_matches("W/").trim_matches('"');
            Some(
                bare.parse::<u64>()
                    .map_err(|_| ApiError::validation("If-Match", "must be an ETag this API gave out"))?,
            )
        }
    };
    match (header, body) {
        (Some(h), Some(b)) if h != b => Err(ApiError::validation("version", "does not agree with If-Match")),
        (h, b) => Ok(h.or(b)),
    }
}
