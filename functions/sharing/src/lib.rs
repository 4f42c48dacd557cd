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
use whatif_shared::routes::{Access, QueryDoc, Route, RouteDoc};
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
        success_status: 201,
        ..RouteDoc::new("sharing", "Share my scenario: a new link (201), or its live one reused (200)")
    });

pub const VIEW: Route = row(Route::get("sharing-view", "/shared/{shareUrl}", handler!(view::handle)))
    .auth(AuthLevel::Optional)
    .access(WRITE)
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<view::SharedAnswer>()),
        ..RouteDoc::new("sharing", "A shared scenario (password in X-Share-Password); counts a view")
    });

pub const MINE: Route =
    row(Route::get("sharing-my", "/api/sharing/my", handler!(mine::handle))).access(READ).doc(RouteDoc {
        query: &[
            QueryDoc { name: "page", description: "1-based page (default 1)", required: false },
            QueryDoc { name: "limit", description: "1–100 (default 20)", required: false },
            QueryDoc { name: "cursor", description: "nextCursor of the previous page", required: false },
            QueryDoc { name: "scenarioId", description: "only this scenario's shares", required: false },
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

pub const ANALYTICS: Route = row(Route::get(
    "sharing-analytics",
    "/api/sharing/analytics",
    handler!(analytics::handle),
))
.access(READ)
.doc(RouteDoc {
    query: &[
        QueryDoc { name: "dateFrom", description: "first day (default: 29 days before dateTo)", required: false },
        QueryDoc { name: "dateTo", description: "last day (default: today); at most 366 days", required: false },
    ],
    response: Some(|g| g.subschema_for::<analytics::AnalyticsAnswer>()),
    ..RouteDoc::new("sharing", "My shares' new links, views and sends by platform, per day")
});

pub const METADATA: Route =
    row(Route::get("sharing-metadata", "/api/sharing/metadata/{shareUrl}", handler!(metadata::handle)))
        .auth(AuthLevel::None)
        .access(READ)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<metadata::Preview>()),
            ..RouteDoc::new("sharing", "A share's Open Graph and Twitter card fields")
        });

pub const PAGE: Route = row(Route::get("sharing-page", "/s/{shareUrl}", handler!(page::handle)))
    .auth(AuthLevel::None)
    .access(READ)
    .doc(RouteDoc { raw: true, ..RouteDoc::new("sharing", "A share's public page (HTML with link-preview tags)") });

pub const CARD: Route = row(Route::get("sharing-card", "/s/{shareUrl}/card.png", handler!(card_image::handle)))
    .auth(AuthLevel::None)
    .memory(256)
    .access(READ)
    .doc(RouteDoc { raw: true, ..RouteDoc::new("sharing", "A share's 1200×630 preview card (PNG)") });

pub const QR: Route = row(Route::get("sharing-qr", "/qr/{shareUrl}", handler!(qr_image::handle)))
    .auth(AuthLevel::None)
    .memory(256)
    .access(READ)
    .doc(RouteDoc {
        query: &[
            QueryDoc { name: "format", description: "png (default) or svg", required: false },
            QueryDoc { name: "size", description: "pixels, 128–1024 (default 512)", required: false },
        ],
        raw: true,
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
