//! Social (API.md, "Social"): posts, threaded comments, likes, and the
//! latest, trending and following feeds. Each row below is one Lambda
//! function; its handler is the module of the same name. The domain (the
//! visibility rule, the counters, the cascades) is in
//! `whatif_shared::social`, where the moderation service uses it too;
//! `feeds` reads the feeds and `views` makes what a caller sees.
//! docs/social.md explains the design and its access patterns.

pub mod comments_create;
pub mod comments_delete;
pub mod comments_like;
pub mod comments_list;
pub mod comments_update;
pub mod data;
pub mod feed_latest;
pub mod feed_trending;
pub mod feeds;
pub mod fields;
pub mod posts_create;
pub mod posts_delete;
pub mod posts_feed;
pub mod posts_get;
pub mod posts_like;
pub mod posts_update;
pub mod views;

use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{self, Access, Param, QueryDoc, Route, RouteDoc};
use whatif_shared::service::Service;

const READ: &[Access] = &[Access::TableRead];
const WRITE: &[Access] = &[Access::TableRead, Access::TableWrite];

/// A social row: bodies are small (a post is at most 10,000 characters).
const fn row(route: Route) -> Route {
    route.max_body(65536)
}

/// A write row: the write-social rate class.
const fn write(route: Route) -> Route {
    row(route).rate(Some(RateClass::WriteSocial)).access(WRITE)
}

const TAGS: QueryDoc = QueryDoc::new(
    "tags",
    "comma-separated tags: entries with any of them (posts only)",
    Param::Text { min: 1, max: feeds::MAX_TAGS_PARAM as u32 },
);
const TIMEFRAME: QueryDoc = QueryDoc::new(
    "timeframe",
    "trending window: 1d, 7d (default) or 30d (checked whatever the type)",
    Param::OneOf(feeds::Timeframe::NAMES),
);
const NOT_VISIBLE: (u16, &str) = (404, "No such post, or one the caller may not see");

pub const POSTS_CREATE: Route =
    write(Route::post("social-posts-create", "/api/social/posts", handler!(posts_create::handle))).idempotent().doc(
        RouteDoc {
            request: Some(|g| g.subschema_for::<posts_create::NewPostBody>()),
            response: Some(|g| g.subschema_for::<views::PostView>()),
            success_status: 201,
            answers: &[(404, "scenarioId names a scenario the caller may not see")],
            ..RouteDoc::new("social", "Publish a post (public, followers-only or private)")
        },
    );

pub const POSTS_FEED: Route =
    row(Route::get("social-posts-feed", "/api/social/posts/feed", handler!(posts_feed::handle)))
        .auth(AuthLevel::Optional)
        .access(READ)
        .doc(RouteDoc {
            query: &[
                QueryDoc::new(
                    "type",
                    "latest (default), trending, or following (signed in)",
                    Param::OneOf(posts_feed::TYPES),
                ),
                TIMEFRAME,
                TAGS,
                routes::PAGE,
                routes::LIMIT,
                routes::CURSOR,
            ],
            response: Some(|g| g.subschema_for::<feeds::FeedPage>()),
            answers: &[(401, "type=following without signing in")],
            ..RouteDoc::new("social", "The posts feed: latest, trending, or of the accounts I follow")
        });

pub const POSTS_GET: Route =
    row(Route::get("social-posts-get", "/api/social/posts/{postId}", handler!(posts_get::handle)))
        .auth(AuthLevel::Optional)
        .access(READ)
        .doc(RouteDoc {
            response: Some(|g| g.subschema_for::<views::PostView>()),
            answers: &[NOT_VISIBLE],
            ..RouteDoc::new("social", "One post, when I may see it")
        });

pub const POSTS_UPDATE: Route = write(Route::put(
    "social-posts-update",
    "/api/social/posts/{postId}",
    handler!(posts_update::handle),
))
.doc(RouteDoc {
    request: Some(|g| g.subschema_for::<posts_update::PostEditBody>()),
    response: Some(|g| g.subschema_for::<views::PostView>()),
    answers: &[NOT_VISIBLE, (403, "Someone else's post"), (409, "The post changed meanwhile (VERSION_MISMATCH)")],
    ..RouteDoc::new("social", "Edit my post's title, content, type, visibility or tags")
});

pub const POSTS_DELETE: Route =
    write(Route::delete("social-posts-delete", "/api/social/posts/{postId}", handler!(posts_delete::handle))).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<posts_delete::Deleted>()),
            answers: &[NOT_VISIBLE, (403, "Someone else's post (moderators may)")],
            ..RouteDoc::new("social", "Delete my post (or, as a moderator, anyone's) with its comments and likes")
        },
    );

pub const POSTS_LIKE: Route =
    write(Route::post("social-posts-like", "/api/social/posts/{postId}/like", handler!(posts_like::handle))).doc(
        RouteDoc {
            response: Some(|g| g.subschema_for::<posts_like::LikeAnswer>()),
            optional_body: true,
            answers: &[NOT_VISIBLE, (409, "Too many changes at once; try again")],
            ..RouteDoc::new("social", "Like a post, or take my like back")
        },
    );

pub const COMMENTS_CREATE: Route =
    write(Route::post("social-comments-create", "/api/social/comments", handler!(comments_create::handle)))
        .idempotent()
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<comments_create::CommentBody>()),
            response: Some(|g| g.subschema_for::<views::CommentView>()),
            success_status: 201,
            answers: &[
                (404, "No such post or parent comment, or one the caller may not see"),
                (422, "parentCommentId is a comment of another post (NOT_ON_POST)"),
            ],
            ..RouteDoc::new("social", "Comment on a post, or reply to a comment")
        });

pub const COMMENTS_LIST: Route =
    row(Route::get("social-comments-list", "/api/social/comments/post/{postId}", handler!(comments_list::handle)))
        .auth(AuthLevel::Optional)
        .access(READ)
        .doc(RouteDoc {
            query: &[routes::PAGE, routes::LIMIT, routes::CURSOR],
            response: Some(|g| g.subschema_for::<comments_list::CommentsPage>()),
            answers: &[NOT_VISIBLE],
            ..RouteDoc::new("social", "A post's comments: threads, oldest first, each with its replies")
        });

pub const COMMENTS_UPDATE: Route =
    write(Route::put("social-comments-update", "/api/social/comments/{commentId}", handler!(comments_update::handle)))
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<comments_update::CommentEditBody>()),
            response: Some(|g| g.subschema_for::<views::CommentView>()),
            answers: &[
                (404, "No such comment, or one the caller may not see"),
                (403, "Someone else's comment"),
                (409, "The comment changed meanwhile (VERSION_MISMATCH)"),
            ],
            ..RouteDoc::new("social", "Edit my comment")
        });

pub const COMMENTS_DELETE: Route = write(Route::delete(
    "social-comments-delete",
    "/api/social/comments/{commentId}",
    handler!(comments_delete::handle),
))
.doc(RouteDoc {
    response: Some(|g| g.subschema_for::<posts_delete::Deleted>()),
    answers: &[
        (404, "No such comment, or one the caller may not see"),
        (403, "Someone else's comment (moderators may)"),
    ],
    ..RouteDoc::new("social", "Delete my comment (or, as a moderator, anyone's), a thread with its replies")
});

pub const COMMENTS_LIKE: Route = write(Route::post(
    "social-comments-like",
    "/api/social/comments/{commentId}/like",
    handler!(comments_like::handle),
))
.doc(RouteDoc {
    response: Some(|g| g.subschema_for::<posts_like::LikeAnswer>()),
    optional_body: true,
    answers: &[(404, "No such comment, or one the caller may not see"), (409, "Too many changes at once; try again")],
    ..RouteDoc::new("social", "Like a comment, or take my like back")
});

pub const FEED_TRENDING: Route =
    row(Route::get("feed-trending", "/api/feed/trending", handler!(feed_trending::handle)))
        .auth(AuthLevel::None)
        .access(READ)
        .doc(RouteDoc {
            query: &[TIMEFRAME, TAGS, routes::PAGE, routes::LIMIT, routes::CURSOR],
            response: Some(|g| g.subschema_for::<feeds::FeedPage>()),
            ..RouteDoc::new("social", "Trending public posts and scenarios, each with its score")
        });

pub const FEED_LATEST: Route = row(Route::get("feed-latest", "/api/feed/latest", handler!(feed_latest::handle)))
    .auth(AuthLevel::None)
    .access(READ)
    .doc(RouteDoc {
        query: &[TAGS, routes::PAGE, routes::LIMIT, routes::CURSOR],
        response: Some(|g| g.subschema_for::<feeds::FeedPage>()),
        ..RouteDoc::new("social", "The newest public posts and scenarios")
    });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[
    POSTS_CREATE,
    POSTS_FEED,
    POSTS_GET,
    POSTS_UPDATE,
    POSTS_DELETE,
    POSTS_LIKE,
    COMMENTS_CREATE,
    COMMENTS_LIST,
    COMMENTS_UPDATE,
    COMMENTS_DELETE,
    COMMENTS_LIKE,
    FEED_TRENDING,
    FEED_LATEST,
];

/// The social service: posts, comments, likes and feeds.
pub const SERVICE: Service = Service { routes: ROUTES, owns: data::OWNERS, ..Service::new("social") };
