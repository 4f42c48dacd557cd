//! Sharing (API.md, "Sharing, QR, reports"): share links, their public page
//! and preview card, QR codes, share analytics and reports. Each row below is
//! one Lambda function; its handler is the module of the same name (`card`
//! and `qr` render the images; `share`, `stats` and `reports` are the domain).
//! docs/sharing.md explains the design and its access patterns.

pub mod analytics;
pub mod caching;
pub mod card;
pub mod card_image;
pub mod create;
pub mod data;
pub mod metadata;
pub mod mine;
pub mod page;
pub mod qr;
pub mod qr_image;
pub mod record;
pub mod report;
pub mod report_options;
pub mod reports;
pub mod revoke;
pub mod share;
pub mod stats;
pub mod update;
pub mod view;

#[cfg(test)]
mod properties;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{self, Access, HeaderDoc, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::Service;

const READ: &[Access] = &[Access::TableRead];
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite];

/// A sharing row: bodies are small (16 KiB).
const fn row(route: Route) -> Route {
    route.max_body(16384)
}

pub const CREATE: Route = row(Route::post("sharing-create", "/api/share/{scenarioId}", handler!(create::handle)))
    .idempotent()
    .access(WRITE)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<create::CreateBody>()),
        response: Some(|g| g.subschema_for::<create::CreateAnswer>()),
        optional_body: true,
        success_status: 201,
        answers: &[(200, "The scenario's live share, reused"), (403, "A moderator hid the scenario")],
        ..RouteDoc::new("sharing", "Share my scenario: a new link (201), or its live one reused (200)")
    });

pub const VIEW: Route = row(Route::get("sharing-view", "/shared/{shareUrl}", handler!(view::handle)))
    .auth(AuthLevel::Optional)
    .access(WRITE)
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<view::SharedAnswer>()),
        headers: &[HeaderDoc {
            name: "X-Share-Password",
            description: "the share's password, when it has one (never in the URL; ignored by a share without one)",
            schema: Param::AnyText,
        }],
        answers: &[
            (403, "The share is password protected: none or a wrong one was sent"),
            (429, "Too many wrong passwords: see Retry-After"),
        ],
        ..RouteDoc::new("sharing", "A shared scenario (password in X-Share-Password); counts a view")
    });

pub const MINE: Route =
    row(Route::get("sharing-my", "/api/sharing/my", handler!(mine::handle))).access(READ).doc(RouteDoc {
        query: &[
            routes::PAGE,
            routes::LIMIT,
            routes::CURSOR,
            QueryDoc::new("scenarioId", "only this scenario's shares", Param::Ulid),
        ],
        response: Some(|g| g.subschema_for::<mine::MyShares>()),
        ..RouteDoc::new("sharing", "My shares, newest first")
    });

pub const UPDATE: Route =
    row(Route::patch("sharing-update", "/api/sharing/share/{shareUrl}", handler!(update::handle))).access(WRITE).doc(
        RouteDoc {
            request: Some(|g| g.subschema_for::<update::UpdateBody>()),
            response: Some(|g| g.subschema_for::<share::OwnerShare>()),
            ..RouteDoc::new("sharing", "Change my share's title, description, password, expiry, or pause it")
        },
    );

pub const REVOKE: Route =
    row(Route::delete("sharing-revoke", "/api/sharing/share/{shareUrl}", handler!(revoke::handle))).access(WRITE).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<share::OwnerShare>()),
            ..RouteDoc::new("sharing", "Revoke my share for good")
        },
    );

pub const RECORD: Route =
    row(Route::post("sharing-record", "/api/sharing/share/{shareUrl}/record", handler!(record::handle)))
        .auth(AuthLevel::Optional)
        .rate(Some(RateClass::WriteSocial))
        .access(WRITE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<record::RecordBody>()),
            response: Some(|g| g.subschema_for::<record::RecordAnswer>()),
            ..RouteDoc::new("sharing", "Count a share sent to a platform")
        });

pub const ANALYTICS: Route =
    row(Route::get("sharing-analytics", "/api/sharing/analytics", handler!(analytics::handle))).access(READ).doc(
        RouteDoc {
            query: &[
                QueryDoc::new("dateFrom", "first day (default: 29 days before dateTo)", Param::Day),
                QueryDoc::new("dateTo", "last day (default: today); at most 366 days", Param::Day),
            ],
            response: Some(|g| g.subschema_for::<analytics::AnalyticsAnswer>()),
            ..RouteDoc::new("sharing", "My shares' new links, views and sends by platform, per day")
        },
    );

pub const METADATA: Route =
    row(Route::get("sharing-metadata", "/api/sharing/metadata/{shareUrl}", handler!(metadata::handle)))
        .auth(AuthLevel::None)
        .access(READ)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<metadata::Preview>()),
            headers: &[routes::IF_NONE_MATCH],
            answers: &[(304, "The client's copy is current")],
            ..RouteDoc::new("sharing", "A share's Open Graph and Twitter card fields")
        });

pub const PAGE: Route = row(Route::get("sharing-page", "/s/{shareUrl}", handler!(page::handle)))
    .auth(AuthLevel::None)
    .access(READ)
    .doc(RouteDoc {
        raw: true,
        content: &["text/html"],
        headers: &[routes::IF_NONE_MATCH],
        answers: &[(304, "The client's copy is current")],
        ..RouteDoc::new("sharing", "A share's public page (HTML with link-preview tags)")
    });

pub const CARD: Route = row(Route::get("sharing-card", "/s/{shareUrl}/card.png", handler!(card_image::handle)))
    .auth(AuthLevel::None)
    .memory(256)
    .access(READ)
    .doc(RouteDoc {
        raw: true,
        content: &["image/png"],
        headers: &[routes::IF_NONE_MATCH],
        answers: &[(304, "The client's copy is current")],
        ..RouteDoc::new("sharing", "A share's 1200×630 preview card (PNG)")
    });

pub const QR: Route = row(Route::get("sharing-qr", "/qr/{shareUrl}", handler!(qr_image::handle)))
    .auth(AuthLevel::None)
    .memory(256)
    .access(READ)
    .doc(RouteDoc {
        query: &[
            QueryDoc::new("format", "png (default) or svg", Param::OneOf(&["png", "svg"])),
            QueryDoc::new("size", "pixels, 128–1024 (default 512)", Param::Integer { min: 128, max: 1024 }),
        ],
        raw: true,
        content: &["image/png", "image/svg+xml"],
        headers: &[routes::IF_NONE_MATCH],
        answers: &[(304, "The client's copy is current")],
        ..RouteDoc::new("sharing", "The QR code of a share's link")
    });

pub const REPORT: Route = row(Route::post("sharing-report", "/api/report", handler!(report::handle)))
    .auth(AuthLevel::Optional)
    .rate(Some(RateClass::WriteSocial))
    .idempotent()
    .access(WRITE)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<report::ReportBody>()),
        response: Some(|g| g.subschema_for::<report::ReportAnswer>()),
        success_status: 201,
        answers: &[
            (409, "The caller already reported this target (DUPLICATE_REPORT)"),
            (422, "The caller's own content (OWN_CONTENT)"),
            (404, "The target does not exist or the caller cannot see it"),
        ],
        ..RouteDoc::new("sharing", "Report a scenario, share, user, post or comment to the moderators")
    });

pub const REPORT_OPTIONS: Route =
    row(Route::get("sharing-report-options", "/api/reporting/options", handler!(report_options::handle)))
        .auth(AuthLevel::None)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<report_options::ReportOptions>()),
            ..RouteDoc::new("sharing", "What a report may say: reasons, categories, severities, with labels")
        });

/// This service's rows of the route table.
pub const ROUTES: &[Route] =
    &[CREATE, VIEW, MINE, UPDATE, REVOKE, RECORD, ANALYTICS, METADATA, PAGE, CARD, QR, REPORT, REPORT_OPTIONS];

/// The sharing service: links to scenarios, their previews, and reports.
pub const SERVICE: Service = Service { routes: ROUTES, owns: data::OWNERS, ..Service::new("sharing") };
