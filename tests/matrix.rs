//! The authorization matrix: every route of the route table, called over
//! HTTP by each kind of caller (see [`MATRIX`]), in a [`World`] of accounts
//! and resources made for it. The suite checks each answer against the
//! matrix (`tests/suite/authz_matrix.rs`) and each answer's cost against
//! the table in `docs/performance.md`; `whatif-bench costs` prints that table.
//!
//! `MATRIX` is the policy at a glance. Each row is
//! `row(function, [anonymous, owner, other user, moderator, admin], "METHOD /path")`,
//! plus its `.body(...)` when it takes one; a function with several cases
//! (the owner's private and public scenario) has a row per case. A cell is
//! `OK` (any 2xx), `E401`, `E403` or `E404` (that refusal), or `NOOP` (a 2xx
//! that did nothing: bulk answers item by item and refuses someone else's
//! items inside its 200).
//!
//! The owner owns every resource a row names (`$private`, `$public`, `$job`,
//! ...); to everyone else it is a stranger's, and the API answers 404 for
//! what a caller may not see (403 only where they may see but not change it:
//! continuing or regenerating someone else's public scenario). Outside the
//! admin routes (403 below their level, the owner included), moderators and
//! admins get what another user gets, except on posts and comments: they see
//! every one (a private or hidden one too) and may delete any, but edit none.
//!
//! Only the token varies across a row. A request that ends the caller's
//! session or changes the account itself runs on a new session or a new
//! account of the caller's role (`Session`), and one that changes a resource
//! for good (delete, restore, cancel) runs on a resource made for that one
//! cell (`$new-...`): no cell depends on another, in any order.
//!
//! Every answer to someone other than the owner is also checked not to hold
//! the owner's secrets: the private scenario's id (unless the request named
//! it), the owner's own tag on their public scenario, their email address
//! (but in an admin's list of accounts, which exists to show it).
//! Every cell is run and every difference reported at the end.
//!
//! Without a server, `every_route_of_the_table_has_a_row` fails for each route
//! of `whatif_app::catalog()` that has no row (so every route added later must
//! join the matrix), for a row naming a function the table does not have, and
//! for a row whose method or path is not its route's;
//! `rows_follow_their_route_s_auth_level` checks the cells against each
//! route's auth level (`none`: the same for everyone; `user` and above: 401
//! when anonymous; 403 below the level; never 401 when signed in).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::TestServer;
use crate::api::{self, Answer, PASSWORD};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use whatif_shared::auth::Role;
use whatif_shared::jobs::records;
use whatif_shared::metering::{COST_HEADER, Cost};
use whatif_shared::oidc::{OidcProviders, PROVIDERS_VAR};
use whatif_shared::ratelimit::RateLimits;

// ---------------------------------------------------------------------------
// The matrix.

/// Who calls, in the order of a row's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    Anonymous,
    /// The signed-up user who owns every resource the rows name.
    Owner,
    /// Another plain user.
    Other,
    Moderator,
    Admin,
}

pub const CALLERS: [Caller; 5] = [Caller::Anonymous, Caller::Owner, Caller::Other, Caller::Moderator, Caller::Admin];

impl Caller {
    pub fn name(self) -> &'static str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Owner => "owner",
            Caller::Other => "other user",
            Caller::Moderator => "moderator",
            Caller::Admin => "admin",
        }
    }

    /// The start of its accounts' email addresses.
    pub fn tag(self) -> &'static str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Owner => "owner",
            Caller::Other => "other",
            Caller::Moderator => "moderator",
            Caller::Admin => "admin",
        }
    }

    /// The role its account has (`None`: no account).
    pub fn role(self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Owner | Caller::Other => Some(Role::User),
            Caller::Moderator => Some(Role::Moderator),
            Caller::Admin => Some(Role::Admin),
        }
    }
}

/// What a caller must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Any 2xx.
    Ok,
    /// Exactly this status.
    Status(u16),
    /// A 2xx whose array at this JSON pointer is empty.
    OkEmpty(&'static str),
}

pub const OK: Expect = Expect::Ok;
/// Sign in first.
pub const E401: Expect = Expect::Status(401);
/// Signed in, but not allowed.
pub const E403: Expect = Expect::Status(403);
/// Not there, as far as this caller may know.
pub const E404: Expect = Expect::Status(404);
/// Well-formed but refused (reporting your own content).
pub const E422: Expect = Expect::Status(422);
/// Yours, but not ready (a video still queued).
pub const E409: Expect = Expect::Status(409);
/// A bad request whoever sends it (an unsigned webhook, an unknown pack).
pub const E400: Expect = Expect::Status(400);
/// Answered, but nothing was done (bulk: none of someone else's scenarios was touched).
pub const NOOP: Expect = Expect::OkEmpty("/data/updated");

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Ok => f.write_str("2xx"),
            Expect::Status(status) => write!(f, "{status}"),
            Expect::OkEmpty(pointer) => write!(f, "2xx with {pointer} empty"),
        }
    }
}

/// Which token a caller sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {
    /// The caller's standing session.
    Standing,
    /// A new sign-in of the caller: the request ends its session (logout).
    New,
    /// A new account of the caller's role: the request changes or ends the
    /// account itself (password, email, logout everywhere, deletion).
    NewAccount,
}

/// One request, and what each caller gets for it.
///
/// The request's path and `body` may hold `$name`s, filled in for each cell by
/// [`World::fill`]: the owner's `$private` and `$public` scenarios and
/// `$job`; `$new-private`, `$new-public`, `$new-deleted`, `$new-job` and
/// `$new-failed-job`, made for the one cell; `$unique`, `$password`, `$new-password`, and the bystander's
/// `$bystander` email and fresh `$refresh-token`, `$reset-token`,
/// `$verify-token`; `$provider`, the fake sign-in provider, and `$id-token`,
/// an ID token it signed; `$private-share`, the private scenario's share
/// link, and `$new-private-share`, a new one for the one cell; `$owner-id` and
/// `$bystander-id`, those accounts' ids; `$nobody`, a username nobody has;
/// `$absent`, an id nothing has; `$post`, a new public post of the owner's,
/// `$secret-post`, a new private one, and `$comment`, a new comment of the
/// owner's on a new public post of theirs.
pub struct Row {
    /// The route's `function` in the route table.
    pub function: &'static str,
    /// What this row tries, when its request alone does not say (several rows of one function).
    pub case: &'static str,
    /// `"METHOD /path"`.
    pub request: &'static str,
    pub body: Option<&'static str>,
    pub session: Session,
    /// Per caller, in the order of [`CALLERS`].
    pub expect: [Expect; 5],
}

impl Row {
    pub const fn case(mut self, case: &'static str) -> Self {
        self.case = case;
        self
    }
    pub const fn body(mut self, json: &'static str) -> Self {
        self.body = Some(json);
        self
    }
    pub const fn session(mut self, session: Session) -> Self {
        self.session = session;
        self
    }
    pub fn method(&self) -> &'static str {
        self.request.split_once(' ').map_or(self.request, |(method, _)| method)
    }

    pub fn path(&self) -> &'static str {
        self.request.split_once(' ').map_or("", |(_, path)| path)
    }

    /// How the report names the row: its function and request (and case).
    pub fn label(&self) -> String {
        match self.case {
            "" => format!("{} [{}]", self.function, self.request),
            case => format!("{} [{}, {case}]", self.function, self.request),
        }
    }
}

use Session::{New, NewAccount};

/// A row: `function`, what each caller gets, and `request` as `"METHOD /path"`.
pub const fn row(function: &'static str, expect: [Expect; 5], request: &'static str) -> Row {
    Row { function, case: "", request, body: None, session: Session::Standing, expect }
}

/// Who may call what. A route the table adds gets its row here (the completeness test names the missing ones).
#[rustfmt::skip]
pub const MATRIX: &[Row] = &[
    //  function                     anon. owner other mod.  admin  request

    // platform
    row("health",                   [OK,   OK,   OK,   OK,   OK  ], "GET /health"),
    row("openapi",                  [OK,   OK,   OK,   OK,   OK  ], "GET /openapi.json"),

    // auth: the `none` routes ignore the token
    row("auth-register",            [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/register")
        .body(r#"{"email": "$unique@example.com", "password": "$password"}"#),
    row("auth-login",               [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/login")
        .body(r#"{"email": "$bystander", "password": "$password"}"#),
    row("auth-refresh",             [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/refresh")
        .body(r#"{"refreshToken": "$refresh-token"}"#),
    row("auth-logout",              [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/logout").body("{}").session(New),
    row("auth-logout-all",          [E401, OK,   OK,   OK,   OK  ], "POST /api/auth/logout-all").session(NewAccount),
    row("auth-forgot-password",     [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/forgot-password")
        .body(r#"{"email": "$bystander"}"#),
    row("auth-reset-password",      [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/reset-password")
        .body(r#"{"token": "$reset-token", "password": "$password", "confirmPassword": "$password"}"#),
    row("auth-verify-email",        [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/verify-email")
        .body(r#"{"token": "$verify-token"}"#),
    row("auth-resend-verification", [E401, OK,   OK,   OK,   OK  ], "POST /api/auth/resend-verification"),
    row("auth-oauth",               [OK,   OK,   OK,   OK,   OK  ], "POST /api/auth/oauth/$provider")
        .body(r#"{"idToken": "$id-token"}"#),
    row("auth-jwks",                [OK,   OK,   OK,   OK,   OK  ], "GET /.well-known/jwks.json"),

    // users: the caller's own account
    row("users-profile-get",        [E401, OK,   OK,   OK,   OK  ], "GET /api/users/profile"),
    row("users-profile-put",        [E401, OK,   OK,   OK,   OK  ], "PUT /api/users/profile")
        .body(r#"{"bio": "Here for the matrix"}"#),
    row("users-change-password",    [E401, OK,   OK,   OK,   OK  ], "PUT /api/users/change-password")
        .session(NewAccount)
        .body(r#"{"currentPassword": "$password", "newPassword": "$new-password", "confirmPassword": "$new-password"}"#),
    row("users-change-email",       [E401, OK,   OK,   OK,   OK  ], "PUT /api/users/change-email").session(NewAccount)
        .body(r#"{"newEmail": "$unique@example.com", "password": "$password"}"#),
    row("users-avatar-upload-url",  [E401, OK,   OK,   OK,   OK  ], "POST /api/users/avatar-upload-url")
        .body(r#"{"contentType": "image/png"}"#),
    row("users-export",             [E401, OK,   OK,   OK,   OK  ], "GET /api/users/export"),
    row("users-delete-account",     [E401, OK,   OK,   OK,   OK  ], "DELETE /api/users/delete-account")
        .session(NewAccount).body(r#"{"password": "$password"}"#),

    // jobs: the owner's
    row("jobs-get",                 [E401, OK,   E404, E404, E404], "GET /api/jobs/$job"),
    row("jobs-cancel",              [E401, OK,   E404, E404, E404], "POST /api/jobs/$new-job/cancel"),

    // generation
    row("generation-generate",      [OK,   OK,   OK,   OK,   OK  ], "POST /api/generate")
        .body(r#"{"topic": "What if the tide stopped?", "options": {"length": "short"}}"#),
    row("generation-random",        [OK,   OK,   OK,   OK,   OK  ], "GET /api/random"),
    row("generation-regenerate",    [OK,   OK,   OK,   OK,   OK  ], "POST /api/regenerate").case("a new topic")
        .body(r#"{"topic": "What if bees ran the post?"}"#),
    row("generation-regenerate",    [E401, OK,   E404, E404, E404], "POST /api/regenerate").case("of the private one")
        .body(r#"{"topic": "What if bees ran the post?", "previousScenarioId": "$private"}"#),
    row("generation-regenerate",    [E401, OK,   E403, E403, E403], "POST /api/regenerate").case("of the public one")
        .body(r#"{"topic": "What if bees ran the post?", "previousScenarioId": "$public"}"#),
    row("generation-batch",         [E401, OK,   OK,   OK,   OK  ], "POST /api/batch-generate")
        .body(r#"{"topics": ["What if clouds were solid?"], "options": {"length": "short"}}"#),
    row("generation-continue",      [E401, OK,   E404, E404, E404], "POST /api/scenarios/$private/continue")
        .body(r#"{"customChoice": "Everyone takes the train"}"#),
    row("generation-continue",      [E401, OK,   E403, E403, E403], "POST /api/scenarios/$public/continue")
        .body(r#"{"customChoice": "Everyone takes the train"}"#),
    row("generation-tree",          [E404, OK,   E404, E404, E404], "GET /api/scenarios/$private/tree"),
    row("generation-tree",          [OK,   OK,   OK,   OK,   OK  ], "GET /api/scenarios/$public/tree"),
    row("generation-providers",     [OK,   OK,   OK,   OK,   OK  ], "GET /api/generation/providers"),

    // history: the caller's own list; the owner's scenarios
    row("history-list",             [E401, OK,   OK,   OK,   OK  ], "GET /api/scenarios/my"),
    row("history-search",           [E401, OK,   OK,   OK,   OK  ], "GET /api/scenarios/search?q=what"),
    row("history-stats",            [E401, OK,   OK,   OK,   OK  ], "GET /api/scenarios/stats"),
    row("history-bulk",             [E401, OK,   NOOP, NOOP, NOOP], "PATCH /api/scenarios/bulk")
        .body(r#"{"scenarioIds": ["$private", "$public"], "operation": "favorite"}"#),
    row("history-get",              [E404, OK,   E404, E404, E404], "GET /api/scenarios/$private"),
    row("history-get",              [OK,   OK,   OK,   OK,   OK  ], "GET /api/scenarios/$public"),
    row("history-update",           [E401, OK,   E404, E404, E404], "PATCH /api/scenarios/$private")
        .body(r#"{"isFavorite": true}"#),
    row("history-update",           [E401, OK,   E404, E404, E404], "PATCH /api/scenarios/$public")
        .body(r#"{"isFavorite": true}"#),
    row("history-delete",           [E401, OK,   E404, E404, E404], "DELETE /api/scenarios/$new-private"),
    row("history-delete",           [E401, OK,   E404, E404, E404], "DELETE /api/scenarios/$new-public"),
    row("history-restore",          [E401, OK,   E404, E404, E404], "POST /api/scenarios/$new-deleted/restore"),
    row("history-versions",         [E401, OK,   E404, E404, E404], "GET /api/scenarios/$private/versions"),
    row("history-versions",         [E401, OK,   E404, E404, E404], "GET /api/scenarios/$public/versions"),
    row("history-export",           [E404, OK,   E404, E404, E404], "GET /api/scenarios/$private/export"),
    row("history-export",           [OK,   OK,   OK,   OK,   OK  ], "GET /api/scenarios/$public/export"),

    // sharing: only the owner shares and manages; a share's public faces are for anyone with the link
    row("sharing-create",           [E401, OK,   E404, E404, E404], "POST /api/share/$private").body("{}"),
    row("sharing-create",           [E401, OK,   E404, E404, E404], "POST /api/share/$public").body("{}")
        .case("someone else's public scenario is not theirs to share"),
    row("sharing-view",             [OK,   OK,   OK,   OK,   OK  ], "GET /shared/$private-share"),
    row("sharing-my",               [E401, OK,   OK,   OK,   OK  ], "GET /api/sharing/my"),
    row("sharing-update",           [E401, OK,   E404, E404, E404], "PATCH /api/sharing/share/$private-share")
        .body(r#"{"title": "A title of the owner's"}"#),
    row("sharing-revoke",           [E401, OK,   E404, E404, E404], "DELETE /api/sharing/share/$new-private-share"),
    row("sharing-record",           [OK,   OK,   OK,   OK,   OK  ], "POST /api/sharing/share/$private-share/record")
        .body(r#"{"platform": "copy"}"#),
    row("sharing-analytics",        [E401, OK,   OK,   OK,   OK  ], "GET /api/sharing/analytics"),
    row("sharing-metadata",         [OK,   OK,   OK,   OK,   OK  ], "GET /api/sharing/metadata/$private-share"),
    row("sharing-page",             [OK,   OK,   OK,   OK,   OK  ], "GET /s/$private-share"),
    row("sharing-card",             [OK,   OK,   OK,   OK,   OK  ], "GET /s/$private-share/card.png"),
    row("sharing-qr",               [OK,   OK,   OK,   OK,   OK  ], "GET /qr/$private-share"),
    row("sharing-report",           [E404, E422, E404, E404, E404], "POST /api/report").case("of the private one")
        .body(r#"{"targetType": "scenario", "targetId": "$private", "reason": "spam"}"#),
    row("sharing-report",           [OK,   E422, OK,   OK,   OK  ], "POST /api/report").case("of the public one")
        .body(r#"{"targetType": "scenario", "targetId": "$public", "reason": "spam"}"#),
    row("sharing-report-options",   [OK,   OK,   OK,   OK,   OK  ], "GET /api/reporting/options"),

    // media: videos and narrations are their owner's alone; voices, providers and estimates are for anyone
    row("media-video-generate",     [E401, OK,   E404, E404, E404], "POST /api/video/generate")
        .body(r#"{"scenarioId": "$private"}"#),
    row("media-video-status",       [E401, OK,   E404, E404, E404], "GET /api/video/$video/status"),
    row("media-video-download",     [E401, E409, E404, E404, E404], "GET /api/video/$video/download"),
    row("media-video-my",           [E401, OK,   OK,   OK,   OK  ], "GET /api/video/my"),
    row("media-video-delete",       [E401, OK,   E404, E404, E404], "DELETE /api/video/$new-video"),
    row("media-video-providers",    [OK,   OK,   OK,   OK,   OK  ], "GET /api/video/providers"),
    row("media-tts-generate",       [E401, OK,   OK,   OK,   OK  ], "POST /api/tts/generate").case("of a text")
        .body(r#"{"text": "Hello there."}"#),
    row("media-tts-generate",       [E401, OK,   E404, E404, E404], "POST /api/tts/generate")
        .case("of the private scenario").body(r#"{"scenarioId": "$private"}"#),
    row("media-tts-get",            [E401, OK,   E404, E404, E404], "GET /api/tts/$audio"),
    row("media-tts-voices",         [OK,   OK,   OK,   OK,   OK  ], "GET /api/tts/voices?languageCode=en"),
    row("media-tts-estimate",       [OK,   OK,   OK,   OK,   OK  ], "POST /api/tts/estimate-duration")
        .body(r#"{"text": "Hello there.", "speakingRate": 1.5}"#),

    // social: public posts for anyone, private ones for the owner and moderators; only authors edit,
    // authors and moderators delete
    row("social-posts-create",      [E401, OK,   OK,   OK,   OK  ], "POST /api/social/posts")
        .body(r#"{"title": "What if maps were alive?", "content": "A thought.", "type": "custom", "visibility": "public"}"#),
    row("social-posts-feed",        [OK,   OK,   OK,   OK,   OK  ], "GET /api/social/posts/feed"),
    row("social-posts-feed",        [E401, OK,   OK,   OK,   OK  ], "GET /api/social/posts/feed?type=following"),
    row("social-posts-get",         [OK,   OK,   OK,   OK,   OK  ], "GET /api/social/posts/$post"),
    row("social-posts-get",         [E404, OK,   E404, OK,   OK  ], "GET /api/social/posts/$secret-post"),
    row("social-posts-update",      [E401, OK,   E403, E403, E403], "PUT /api/social/posts/$post")
        .body(r#"{"title": "A title of the owner's"}"#),
    row("social-posts-update",      [E401, OK,   E404, E403, E403], "PUT /api/social/posts/$secret-post")
        .body(r#"{"title": "A title of the owner's"}"#),
    row("social-posts-delete",      [E401, OK,   E403, OK,   OK  ], "DELETE /api/social/posts/$post"),
    row("social-posts-delete",      [E401, OK,   E404, OK,   OK  ], "DELETE /api/social/posts/$secret-post"),
    row("social-posts-like",        [E401, OK,   OK,   OK,   OK  ], "POST /api/social/posts/$post/like"),
    row("social-posts-like",        [E401, OK,   E404, OK,   OK  ], "POST /api/social/posts/$secret-post/like"),
    row("social-comments-create",   [E401, OK,   OK,   OK,   OK  ], "POST /api/social/comments")
        .case("on the public post").body(r#"{"postId": "$post", "content": "Nice one"}"#),
    row("social-comments-create",   [E401, OK,   E404, OK,   OK  ], "POST /api/social/comments")
        .case("on the secret post").body(r#"{"postId": "$secret-post", "content": "Nice one"}"#),
    row("social-comments-list",     [OK,   OK,   OK,   OK,   OK  ], "GET /api/social/comments/post/$post"),
    row("social-comments-list",     [E404, OK,   E404, OK,   OK  ], "GET /api/social/comments/post/$secret-post"),
    row("social-comments-update",   [E401, OK,   E403, E403, E403], "PUT /api/social/comments/$comment")
        .body(r#"{"content": "Edited"}"#),
    row("social-comments-delete",   [E401, OK,   E403, OK,   OK  ], "DELETE /api/social/comments/$comment"),
    row("social-comments-like",     [E401, OK,   OK,   OK,   OK  ], "POST /api/social/comments/$comment/like"),
    row("feed-trending",            [OK,   OK,   OK,   OK,   OK  ], "GET /api/feed/trending"),
    row("feed-latest",              [OK,   OK,   OK,   OK,   OK  ], "GET /api/feed/latest"),

    // billing: my credits are mine; plans for anyone; the webhook trusts only Stripe's signature, never a token
    row("billing-credits",          [E401, OK,   OK,   OK,   OK  ], "GET /api/credits"),
    row("billing-plans",            [OK,   OK,   OK,   OK,   OK  ], "GET /api/billing/plans"),
    row("billing-checkout",         [E401, E400, E400, E400, E400], "POST /api/billing/checkout")
        .body(r#"{"pack": "no-such-pack"}"#),
    row("billing-webhook",          [E400, E400, E400, E400, E400], "POST /api/billing/webhook")
        .body(r#"{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}"#),

    // profiles: following is for signed-in callers, never of oneself; public profiles, their
    // follows, search and the leaderboards are for anyone; notifications and achievements are mine
    row("profiles-follow",          [E401, OK,   OK,   OK,   OK  ], "POST /api/profiles/$bystander-id/follow"),
    row("profiles-follow",          [E401, E422, OK,   OK,   OK  ], "POST /api/profiles/$owner-id/follow"),
    row("profiles-unfollow",        [E401, OK,   OK,   OK,   OK  ], "DELETE /api/profiles/$bystander-id/follow"),
    row("profiles-unfollow",        [E401, E422, OK,   OK,   OK  ], "DELETE /api/profiles/$owner-id/follow"),
    row("profiles-follows",         [OK,   OK,   OK,   OK,   OK  ], "GET /api/profiles/$owner-id/follows?type=following"),
    row("profiles-by-username",     [E404, E404, E404, E404, E404], "GET /api/profiles/username/$nobody"),
    row("profiles-search",          [OK,   OK,   OK,   OK,   OK  ], "GET /api/profiles/search?q=owner"),
    row("profiles-leaderboard",     [OK,   OK,   OK,   OK,   OK  ], "GET /api/profiles/leaderboard?by=likes"),
    row("notifications-list",       [E401, OK,   OK,   OK,   OK  ], "GET /api/notifications?unreadOnly=true"),
    row("notifications-read",       [E401, OK,   OK,   OK,   OK  ], "POST /api/notifications/read")
        .body(r#"{"all": true}"#),
    row("achievements-my",          [E401, OK,   OK,   OK,   OK  ], "GET /api/achievements/my"),

    // admin: accounts and the audit log are for admins; the report queue for moderators and admins
    row("admin-users-list",         [E401, E403, E403, E403, OK  ], "GET /api/admin/users?search=owner"),
    row("admin-users-update",       [E401, E403, E403, E403, OK  ], "PATCH /api/admin/users/$bystander-id")
        .body(r#"{"credits": 5, "note": "the matrix"}"#),
    row("admin-reports-list",       [E401, E403, E403, OK,   OK  ], "GET /api/admin/reports?status=open"),
    row("admin-reports-update",     [E401, E403, E403, E404, E404], "PATCH /api/admin/reports/$absent")
        .body(r#"{"action": "dismiss"}"#),
    row("admin-audit",              [E401, E403, E403, E403, OK  ], "GET /api/admin/audit"),

    // operations: admins only, on anyone's jobs (the owner's own included)
    row("admin-stats",              [E401, E403, E403, E403, OK  ], "GET /api/admin/stats"),
    row("admin-jobs-list",          [E401, E403, E403, E403, OK  ], "GET /api/admin/jobs?status=failed"),
    row("admin-jobs-retry",         [E401, E403, E403, E403, OK  ], "POST /api/admin/jobs/$new-failed-job/retry"),
    row("admin-jobs-cancel",        [E401, E403, E403, E403, OK  ], "POST /api/admin/jobs/$new-job/cancel"),
];

// ---------------------------------------------------------------------------
// The world the matrix runs in: a server, its accounts, the owner's resources.

pub struct Account {
    pub email: String,
    pub id: String,
    pub token: String,
}

pub struct World {
    pub server: TestServer,
    pub idp: FakeIdp,
    /// The signed-in callers' accounts.
    pub accounts: HashMap<Caller, Account>,
    /// Signs in, gets reset and verified; no row's caller.
    pub bystander: Account,
    /// The owner's public scenario, tagged with [`OWNER_TAG`].
    pub public: String,
    /// The owner's private continuation of `public` (so that the public tree has a node strangers must not see).
    pub private: String,
    /// The owner's data-export job.
    pub job: String,
    pub counter: AtomicUsize,
    pub _data: tempfile::TempDir,
}

/// The owner's own tag on their public scenario: strangers see the story, not the owner's notes.
pub const OWNER_TAG: &str = "ownersnote";

/// A job kind no worker runs: its job stays queued, so its owner can cancel it
/// (no route makes a job that is sure to be still running when the cell runs;
/// the worker leaves the message for a later receive, long after the test).
pub const IDLE_JOB_KIND: &str = "authz-matrix-idle";

impl World {
    pub async fn new() -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let idp = FakeIdp::start().await;
        let limits = RateLimits::parse(concat!(
            "auth=100000/15m,password-reset=100000/1h,general=100000/15m,",
            "generate=100000/1h,media=100000/1h,write-social=100000/1h"
        ))
        .expect("valid limits");
        let providers = idp.providers();
        let server = TestServer::start_in(data.path(), |config| {
            config.rate_limits = limits;
            config.oidc = providers;
            config.cost_header = true;
        })
        .await;
        let mut world = Self {
            server,
            idp,
            accounts: HashMap::new(),
            bystander: Account { email: String::new(), id: String::new(), token: String::new() },
            public: String::new(),
            private: String::new(),
            job: String::new(),
            counter: AtomicUsize::new(0),
            _data: data,
        };
        world.bystander = world.new_account("bystander", Role::User).await;
        for caller in CALLERS {
            if let Some(role) = caller.role() {
                let account = world.new_account(caller.tag(), role).await;
                world.accounts.insert(caller, account);
            }
        }

        let owner = world.accounts[&Caller::Owner].token.clone();
        let root = world.generate(&owner, "What if the owner's bridge opened?").await;
        let made_public = world.owner_patch(&root, json!({"isPublic": true, "tags": [OWNER_TAG]})).await;
        assert_eq!(made_public.status, 200, "make the scenario public: {made_public:?}");
        assert_eq!(
            made_public.data()["scenario"]["tags"],
            json!([OWNER_TAG]),
            "the owner sees their tag: {made_public:?}"
        );
        world.public = root;
        let child = api::post(
            &world.server,
            &format!("/api/scenarios/{}/continue", world.public),
            Some(&owner),
            json!({"customChoice": "The owner walks across first"}),
        )
        .await;
        assert_eq!(child.status, 201, "continue the public scenario: {child:?}");
        world.private = child.data()["scenario"]["id"].as_str().expect("a scenario id").to_string();
        let export = api::get(&world.server, "/api/users/export", Some(&owner)).await;
        assert_eq!(export.status, 202, "start an export: {export:?}");
        world.job = export.data()["jobId"].as_str().expect("a job id").to_string();
        world
    }

    pub fn unique(&self) -> String {
        format!("matrix{}", self.counter.fetch_add(1, Ordering::SeqCst))
    }

    /// A new account `<tag>.<unique>@example.com` with `role` (promoted the way
    /// `whatif-local promote-admin` does), signed in after.
    pub async fn new_account(&self, tag: &str, role: Role) -> Account {
        let email = format!("{tag}.{}@example.com", self.unique());
        let answer =
            api::post(&self.server, "/api/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(answer.status, 201, "register {email}: {answer:?}");
        let id = answer.data()["user"]["id"].as_str().expect("a user id").to_string();
        if role != Role::User {
            crate::promote(&self.server, &id, role).await;
        }
        // Tokens carry the role: a new sign-in gets one with the new role.
        let token = self.sign_in(&email).await;
        let profile = api::get(&self.server, "/api/users/profile", Some(&token)).await;
        assert_eq!(profile.data()["user"]["role"], json!(role), "{email} is a {role:?}: {profile:?}");
        Account { email, id, token }
    }

    /// A new session of the account with `email`: its access token.
    pub async fn sign_in(&self, email: &str) -> String {
        let answer =
            api::post(&self.server, "/api/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(answer.status, 200, "sign in as {email}: {answer:?}");
        answer.data()["accessToken"].as_str().expect("an access token").to_string()
    }

    /// A new scenario of the owner (private): its id.
    pub async fn generate(&self, owner: &str, topic: &str) -> String {
        let body = json!({"topic": topic, "options": {"length": "short"}});
        let answer = api::post(&self.server, "/api/generate", Some(owner), body).await;
        assert_eq!(answer.status, 200, "generate {topic:?}: {answer:?}");
        answer.data()["scenario"]["id"].as_str().expect("a scenario id").to_string()
    }

    pub async fn owner_patch(&self, id: &str, body: Value) -> Answer {
        let owner = &self.accounts[&Caller::Owner].token;
        api::patch(&self.server, &format!("/api/scenarios/{id}"), Some(owner), body).await
    }

    /// Sends `row`'s request as `caller`: the request as sent (for the report), and the answer.
    pub async fn call(&self, row: &Row, caller: Caller) -> (String, Answer) {
        let token = match (caller, row.session) {
            (Caller::Anonymous, _) => None,
            (_, Session::Standing) => Some(self.accounts[&caller].token.clone()),
            (_, Session::New) => Some(self.sign_in(&self.accounts[&caller].email).await),
            (_, Session::NewAccount) => {
                let tag = format!("new-{}", caller.tag());
                Some(self.new_account(&tag, caller.role().unwrap_or(Role::User)).await.token)
            }
        };
        let path = self.fill(row.path()).await;
        let body = match row.body {
            Some(template) => {
                let text = self.fill(template).await;
                Some(
                    serde_json::from_str::<Value>(&text)
                        .unwrap_or_else(|e| panic!("{}: body {text}: {e}", row.label())),
                )
            }
            None => None,
        };
        let method = Method::from_bytes(row.method().as_bytes()).expect("an HTTP method");
        let request = match &body {
            Some(body) => format!("{method} {path} {body}"),
            None => format!("{method} {path}"),
        };
        let answer = api::send(&self.server, method, &path, token.as_deref(), body, &[]).await;
        (request, answer)
    }

    /// `template` with each `$name` replaced by its value (see [`Row`]).
    pub async fn fill(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after.find(|c: char| !(c.is_ascii_lowercase() || c == '-')).unwrap_or(after.len());
            out.push_str(&self.value(&after[..len]).await);
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    pub async fn value(&self, name: &str) -> String {
        let owner = &self.accounts[&Caller::Owner];
        match name {
            "private" => self.private.clone(),
            "public" => self.public.clone(),
            "job" => self.job.clone(),
            "unique" => self.unique(),
            "password" => PASSWORD.to_string(),
            "new-password" => "another horse 43".to_string(),
            "provider" => FakeIdp::NAME.to_string(),
            "bystander" => self.bystander.email.clone(),
            "owner-id" => owner.id.clone(),
            "nobody" => "nobody-has-this".to_string(),
            "absent" => self.server.ctx.ids.ulid().to_string(),
            "bystander-id" => self.bystander.id.clone(),
            "new-private" => self.generate(&owner.token, &format!("What if {} flew?", self.unique())).await,
            "new-public" => {
                let id = self.generate(&owner.token, &format!("What if {} sang?", self.unique())).await;
                let answer = self.owner_patch(&id, json!({"isPublic": true})).await;
                assert_eq!(answer.status, 200, "make {id} public: {answer:?}");
                id
            }
            "new-deleted" => {
                let id = self.generate(&owner.token, &format!("What if {} slept?", self.unique())).await;
                let path = format!("/api/scenarios/{id}");
                let answer = api::send(&self.server, Method::DELETE, &path, Some(&owner.token), None, &[]).await;
                assert_eq!(answer.status, 200, "delete {id}: {answer:?}");
                id
            }
            "private-share" | "new-private-share" => {
                let body = json!({"forceNew": name == "new-private-share"});
                let path = format!("/api/share/{}", self.private);
                let answer = api::post(&self.server, &path, Some(&owner.token), body).await;
                assert!(answer.status == 200 || answer.status == 201, "share {}: {answer:?}", self.private);
                answer.data()["shareUrl"].as_str().expect("a share id").to_string()
            }
            "video" | "new-video" | "audio" => {
                // A media item of the owner's, its job queued under an idle kind (never rendered).
                use whatif_media::record::{self, Media, MediaKind};
                let id = self.server.ctx.ids.ulid().to_string();
                let kind = if name == "audio" { MediaKind::Audio } else { MediaKind::Video };
                let media = Media {
                    id: id.clone(),
                    kind,
                    user_id: owner.id.clone(),
                    scenario_id: Some(self.private.clone()),
                    title: "A private video".into(),
                    options: json!({}),
                    created_at: whatif_shared::clock::rfc3339(self.server.ctx.clock.now()),
                    files: Default::default(),
                    duration_sec: None,
                    size_bytes: None,
                };
                record::create(&self.server.ctx, &media).await.expect("a media item");
                records::enqueue_as(&self.server.ctx, &id, IDLE_JOB_KIND, &owner.id, json!({}))
                    .await
                    .expect("its idle job");
                id
            }
            "post" | "secret-post" | "comment" => {
                let visibility = if name == "secret-post" { "private" } else { "public" };
                let body = json!({"title": format!("Post {}", self.unique()), "content": "Words.", "type": "custom", "visibility": visibility});
                let answer = api::post(&self.server, "/api/social/posts", Some(&owner.token), body).await;
                assert_eq!(answer.status, 201, "publish a post: {answer:?}");
                let post = answer.data()["id"].as_str().expect("a post id").to_string();
                if name != "comment" {
                    return post;
                }
                let body = json!({"postId": post, "content": "The owner's comment"});
                let answer = api::post(&self.server, "/api/social/comments", Some(&owner.token), body).await;
                assert_eq!(answer.status, 201, "comment: {answer:?}");
                answer.data()["id"].as_str().expect("a comment id").to_string()
            }
            "new-job" => {
                let job = records::enqueue(&self.server.ctx, IDLE_JOB_KIND, &owner.id, json!({}))
                    .await
                    .expect("queue an idle job");
                job.id
            }
            "new-failed-job" => {
                let job = records::enqueue(&self.server.ctx, IDLE_JOB_KIND, &owner.id, json!({}))
                    .await
                    .expect("queue an idle job");
                records::fail(&self.server.ctx, &job.id, "failed for the matrix").await.expect("fail it");
                job.id
            }
            "refresh-token" => {
                let body = json!({"email": self.bystander.email, "password": PASSWORD});
                let answer = api::post(&self.server, "/api/auth/login", None, body).await;
                assert_eq!(answer.status, 200, "sign the bystander in: {answer:?}");
                answer.data()["refreshToken"].as_str().expect("a refresh token").to_string()
            }
            "reset-token" | "verify-token" => {
                use whatif_shared::accounts::ott::{self, Purpose};
                let purpose = if name == "reset-token" { Purpose::ResetPassword } else { Purpose::VerifyEmail };
                // What the emailed link carries (the email flows have tests of their own).
                ott::issue(&self.server.ctx, purpose, &self.bystander.id, &self.bystander.email)
                    .await
                    .expect("a one-time token")
            }
            "id-token" => {
                let who = self.unique();
                self.idp.id_token(&who, &format!("{who}@example.com"))
            }
            other => panic!("${other} is not a placeholder of the matrix"),
        }
    }

    /// What no answer to someone other than the owner may hold, for this row.
    pub fn secrets(&self, row: &Row) -> Vec<String> {
        let named = |name: &str| row.path().contains(name) || row.body.is_some_and(|b| b.contains(name));
        let mut secrets = vec![OWNER_TAG.to_string()];
        // An admin's list of accounts shows their email addresses: that is what it is for.
        if row.function != "admin-users-list" {
            secrets.push(self.accounts[&Caller::Owner].email.clone());
        }
        if !named("$private") {
            secrets.push(self.private.clone());
        }
        secrets
    }
}

// ---------------------------------------------------------------------------
// A fake OpenID Connect provider, for `auth-oauth`.

/// The provider's P-256 key (the OIDC tests' first key, made with openssl).
pub const IDP_KID: &str = "acme-2026-a";
pub const IDP_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUSACnwRD3FIUde/T
9t0dfjF/PK/BFOiNvyIctzSsb2WhRANCAAQDf7L71SufOKRbqbORCMEneP6hawlA
DkQWzFVQIbJHbWeAlMtv/uYCfEXXKplOwHMBPbU8hScHBgIwZ2ZwAxqK
-----END PRIVATE KEY-----
";
pub const IDP_X: &str = "A3-y-9UrnzikW6mzkQjBJ3j-oWsJQA5EFsxVUCGyR20";
pub const IDP_Y: &str = "Z4CUy2_-5gJ8RdcqmU7AcwE9tTyFJwcGAjBnZnADGoo";
pub const IDP_CLIENT: &str = "whatif-web";

/// Serves its JWKS on 127.0.0.1 (whatever the path) and signs ID tokens.
pub struct FakeIdp {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

impl FakeIdp {
    /// Its name in the server's configuration.
    const NAME: &str = "acme";

    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the fake provider");
        let addr = listener.local_addr().expect("its address");
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": IDP_KID, "x": IDP_X, "y": IDP_Y, "alg": "ES256", "use": "sig",
        }]})
        .to_string();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let jwks = jwks.clone();
                tokio::spawn(async move {
                    let (mut request, mut buf) = (Vec::new(), [0u8; 1024]);
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{jwks}",
                        jwks.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { addr, task }
    }

    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's configuration: this provider, as [`Self::NAME`].
    pub fn providers(&self) -> OidcProviders {
        let entry = format!("{}|{}|http://{}/jwks|{IDP_CLIENT}", Self::NAME, self.issuer(), self.addr);
        OidcProviders::from_env(&HashMap::from([(PROVIDERS_VAR.to_string(), entry)])).expect("a valid provider")
    }

    /// A good ID token for a (new) identity.
    pub fn id_token(&self, subject: &str, email: &str) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
        let claims = json!({
            "iss": self.issuer(), "aud": IDP_CLIENT, "sub": subject, "email": email, "email_verified": true,
            "iat": now, "exp": now + 600,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(IDP_KID.to_string());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(IDP_KEY.as_bytes()).expect("a P-256 PKCS#8 key");
        jsonwebtoken::encode(&header, &claims, &key).expect("sign an ID token")
    }
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------
// Running the matrix, and what each cell cost.

/// One cell of the matrix, run.
pub struct Cell {
    /// The row's place in [`MATRIX`].
    pub index: usize,
    pub row: &'static Row,
    pub caller: Caller,
    pub expect: Expect,
    /// The request as sent (the `$name`s filled in).
    pub request: String,
    pub answer: Answer,
}

impl Cell {
    /// What the request cost the server (its `X-Whatif-Cost`; the world's
    /// server answers with it).
    pub fn cost(&self) -> Option<Cost> {
        self.answer.headers.get(COST_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
    }
}

impl World {
    /// Every cell of [`MATRIX`], row by row, each caller in the order of [`CALLERS`].
    pub async fn run(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for (index, row) in MATRIX.iter().enumerate() {
            for (caller, expect) in CALLERS.into_iter().zip(row.expect) {
                let (request, answer) = self.call(row, caller).await;
                cells.push(Cell { index, row, caller, expect, request, answer });
            }
        }
        cells
    }
}

/// Where `docs/performance.md` holds the table of costs.
pub const COSTS_BEGIN: &str =
    "<!-- costs: begin (made by `cargo run --release -p whatif-bench -- costs --write`; the suite checks it) -->";
pub const COSTS_END: &str = "<!-- costs: end -->";

/// The markdown table of what each cell cost: a row per matrix row, a
/// column per caller; each cell is its [`Cost::short`], after the status
/// when that is not a 2xx.
pub fn cost_table(cells: &[Cell]) -> String {
    let mut out = String::from("| function | request |");
    for caller in CALLERS {
        out.push_str(&format!(" {} |", caller.name()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(CALLERS.len()));
    for (index, row) in MATRIX.iter().enumerate() {
        let (function, request) = cost_key(row);
        out.push_str(&format!("\n| `{function}` | `{request}` |"));
        for caller in CALLERS {
            let cell = cells.iter().find(|c| c.index == index && c.caller == caller);
            let text = match cell {
                None => "?".to_string(),
                Some(cell) => {
                    let cost = cell.cost().map(|c| c.short()).unwrap_or_else(|| "?".into());
                    if (200..300).contains(&cell.answer.status) {
                        cost
                    } else {
                        format!("{} · {cost}", cell.answer.status)
                    }
                }
            };
            out.push_str(&format!(" {text} |"));
        }
    }
    out.push('\n');
    out
}

/// The costs a table made by [`cost_table`] holds, by (function, request
/// column, caller).
pub fn read_cost_table(doc: &str) -> HashMap<(String, String, Caller), Cost> {
    let mut out = HashMap::new();
    let Some((start, end)) = cost_section(doc) else { return out };
    for line in doc[start..end].lines().filter(|l| l.starts_with("| `")) {
        let columns: Vec<&str> = line.trim().trim_matches('|').split(" | ").map(str::trim).collect();
        if columns.len() != 2 + CALLERS.len() {
            continue;
        }
        let (function, request) = (columns[0].trim_matches('`'), columns[1].trim_matches('`'));
        for (caller, text) in CALLERS.into_iter().zip(&columns[2..]) {
            let cost = text.rsplit(" · ").next().and_then(Cost::from_short);
            if let Some(cost) = cost {
                out.insert((function.to_string(), request.to_string(), caller), cost);
            }
        }
    }
    out
}

/// Where the text between [`COSTS_BEGIN`] and [`COSTS_END`] starts and ends.
fn cost_section(doc: &str) -> Option<(usize, usize)> {
    let start = doc.find(COSTS_BEGIN)? + COSTS_BEGIN.len();
    Some((start, start + doc[start..].find(COSTS_END)?))
}

/// `doc` with its table of costs replaced by `table` (None: it has no markers).
pub fn with_cost_table(doc: &str, table: &str) -> Option<String> {
    let (start, end) = cost_section(doc)?;
    Some(format!("{}\n{table}{}", &doc[..start], &doc[end..]))
}

/// The (function, request column) of a row, as [`cost_table`] writes them.
pub fn cost_key(row: &Row) -> (String, String) {
    let request = match row.case {
        "" => row.request.to_string(),
        case => format!("{} ({case})", row.request),
    };
    (row.function.to_string(), request)
}
