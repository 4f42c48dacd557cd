//! Profiles (API.md, "Social"): following, public profiles, profile search,
//! leaderboards, notifications and achievements. Each row below is one
//! Lambda function; its handler is the module of the same name. The domain
//! (counters, follows, notifications, achievements, search items) is in
//! `whatif_shared::social`; docs/social.md explains the items and their
//! access patterns.

pub mod achievements;
pub mod data;
pub mod follow;
pub mod follows;
pub mod leaderboard;
pub mod notifications;
pub mod profile;
pub mod read;
pub mod search;
pub mod unfollow;
pub mod visible;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{self, Access, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::Service;

/// Reads that may also present an avatar link.
const READ_CARDS: &[Access] = &[Access::TableRead, Access::BlobRead(whatif_shared::keys::AVATARS)];
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite];

const fn row(route: Route) -> Route {
    route.max_body(16384)
}

pub const FOLLOW: Route =
    row(Route::post("profiles-follow", "/api/profiles/{userId}/follow", handler!(follow::handle)))
        .rate(Some(RateClass::WriteSocial))
        .access(WRITE)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<follow::FollowState>()),
            optional_body: true,
            answers: &[(422, "The caller cannot follow themselves (CANNOT_FOLLOW_SELF)")],
            ..RouteDoc::new("profiles", "Follow an account (following again changes nothing)")
        });

pub const UNFOLLOW: Route =
    row(Route::delete("profiles-unfollow", "/api/profiles/{userId}/follow", handler!(unfollow::handle)))
        .rate(Some(RateClass::WriteSocial))
        .access(WRITE)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<follow::FollowState>()),
            answers: &[(422, "The caller cannot unfollow themselves (CANNOT_FOLLOW_SELF)")],
            ..RouteDoc::new("profiles", "Stop following an account (not following changes nothing)")
        });

pub const FOLLOWS: Route =
    row(Route::get("profiles-follows", "/api/profiles/{userId}/follows", handler!(follows::handle)))
        .auth(AuthLevel::None)
        .access(READ_CARDS)
        .doc(RouteDoc {
            query: &[
                QueryDoc::new("type", "followers (default) or following", Param::OneOf(&["followers", "following"])),
                routes::PAGE,
                routes::LIMIT,
                routes::CURSOR,
            ],
            response: Some(|g| g.subschema_for::<follows::FollowList>()),
            ..RouteDoc::new("profiles", "A public profile's followers, or the accounts it follows, newest first")
        });

pub const BY_USERNAME: Route =
    row(Route::get("profiles-by-username", "/api/profiles/username/{username}", handler!(profile::handle)))
        .auth(AuthLevel::None)
        .access(READ_CARDS)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<profile::ProfileAnswer>()),
            ..RouteDoc::new("profiles", "A public profile with its counts (a private one is 404)")
        });

pub const SEARCH: Route = row(Route::get("profiles-search", "/api/profiles/search", handler!(search::handle)))
    .auth(AuthLevel::None)
    .access(READ_CARDS)
    .doc(RouteDoc {
        query: &[
            QueryDoc::new(
                "q",
                "2–100 characters; words of a name or username, case and accents ignored",
                Param::Text { min: 2, max: 100 },
            )
            .required(),
            routes::PAGE,
            routes::LIMIT,
        ],
        response: Some(|g| g.subschema_for::<search::SearchAnswer>()),
        ..RouteDoc::new("profiles", "Find public profiles by name or username")
    });

pub const LEADERBOARD: Route =
    row(Route::get("profiles-leaderboard", "/api/profiles/leaderboard", handler!(leaderboard::handle)))
        .auth(AuthLevel::None)
        .access(READ_CARDS)
        .doc(RouteDoc {
            query: &[
                QueryDoc::new(
                    "by",
                    "reputation (default), scenarios or likes",
                    Param::OneOf(&["reputation", "scenarios", "likes"]),
                ),
                routes::LIMIT,
            ],
            response: Some(|g| g.subschema_for::<leaderboard::Leaderboard>()),
            ..RouteDoc::new("profiles", "The top public profiles by reputation, scenarios or likes received")
        });

pub const NOTIFICATIONS: Route =
    row(Route::get("notifications-list", "/api/notifications", handler!(notifications::handle)))
        .access(READ_CARDS)
        .doc(RouteDoc {
            query: &[
                QueryDoc::new("unreadOnly", "only the unread ones", Param::Boolean),
                routes::PAGE,
                routes::LIMIT,
                routes::CURSOR,
            ],
            response: Some(|g| g.subschema_for::<notifications::NotificationList>()),
            ..RouteDoc::new("notifications", "My notifications, unread first, newest first")
        });

pub const READ_NOTIFICATIONS: Route =
    row(Route::post("notifications-read", "/api/notifications/read", handler!(read::handle)))
        .rate(Some(RateClass::WriteSocial))
        .access(WRITE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<read::ReadBody>()),
            response: Some(|g| g.subschema_for::<read::ReadAnswer>()),
            ..RouteDoc::new("notifications", "Mark my notifications read: some by id, or all")
        });

pub const ACHIEVEMENTS: Route =
    row(Route::get("achievements-my", "/api/achievements/my", handler!(achievements::handle))).access(WRITE).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<achievements::AchievementsAnswer>()),
            ..RouteDoc::new("achievements", "My achievements: earned ones with when, the others with my progress")
        },
    );

/// This service's rows of the route table.
pub const ROUTES: &[Route] =
    &[FOLLOW, UNFOLLOW, FOLLOWS, BY_USERNAME, SEARCH, LEADERBOARD, NOTIFICATIONS, READ_NOTIFICATIONS, ACHIEVEMENTS];

/// The profiles service: the social graph, profiles, notifications and achievements.
pub const SERVICE: Service = Service { routes: ROUTES, owns: data::OWNERS, ..Service::new("profiles") };
