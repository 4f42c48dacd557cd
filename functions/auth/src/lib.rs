//! Auth routes. Each row below is one Lambda function; its handler is the
//! module of the same name.

mod common;
pub mod forgot_password;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod logout_all;
pub mod oauth;
pub mod refresh;
pub mod register;
pub mod resend_verification;
pub mod reset_password;
pub mod verify_email;

use http::Method;
use whatif_shared::auth::AuthLevel;
use whatif_shared::config::secrets::SIGNING_KEYS;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, Route, RouteDoc};

/// Functions that issue tokens read the private signing keys; nothing else may.
const ISSUES_TOKENS: &[Access] = &[Access::TableRead, Access::TableWrite, Access::SecretRead(SIGNING_KEYS)];
const TABLE: &[Access] = &[Access::TableRead, Access::TableWrite];
const TABLE_AND_MAIL: &[Access] = &[Access::TableRead, Access::TableWrite, Access::SendEmail];

pub const REGISTER: Route = Route {
    function: "auth-register",
    method: Method::POST,
    path: "/api/auth/register",
    auth: AuthLevel::None,
    rate: Some(RateClass::Auth),
    idempotent: false,
    // Argon2id: more memory buys the CPU share that keeps hashing fast.
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: &[Access::TableRead, Access::TableWrite, Access::SecretRead(SIGNING_KEYS), Access::SendEmail],
    handler: handler!(register::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<register::RegisterBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        success_status: 201,
        ..RouteDoc::new(
            "auth",
            "Create an account (signed in at once; a verification email is sent). 409 when the email or username is taken",
        )
    },
};

pub const LOGIN: Route = Route {
    function: "auth-login",
    method: Method::POST,
    path: "/api/auth/login",
    auth: AuthLevel::None,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: ISSUES_TOKENS,
    handler: handler!(login::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<login::LoginBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        ..RouteDoc::new("auth", "Sign in with email and password; 5 failures lock the account for 15 minutes (423)")
    },
};

pub const REFRESH: Route = Route {
    function: "auth-refresh",
    method: Method::POST,
    path: "/api/auth/refresh",
    auth: AuthLevel::None,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(4096),
    access: ISSUES_TOKENS,
    handler: handler!(refresh::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<refresh::RefreshBody>()),
        response: Some(|g| g.subschema_for::<whatif_shared::accounts::sessions::Issued>()),
        ..RouteDoc::new("auth", "Rotate a refresh token; reusing a rotated one closes the whole session")
    },
};

pub const LOGOUT: Route = Route {
    function: "auth-logout",
    method: Method::POST,
    path: "/api/auth/logout",
    auth: AuthLevel::Optional,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(4096),
    access: TABLE,
    handler: handler!(logout::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<logout::LogoutBody>()),
        ..RouteDoc::new("auth", "Close this session (its access token stops working too)")
    },
};

pub const LOGOUT_ALL: Route = Route {
    function: "auth-logout-all",
    method: Method::POST,
    path: "/api/auth/logout-all",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(1024),
    access: TABLE,
    handler: handler!(logout_all::handle),
    doc: RouteDoc::new("auth", "Close every session of the account"),
};

pub const FORGOT_PASSWORD: Route = Route {
    function: "auth-forgot-password",
    method: Method::POST,
    path: "/api/auth/forgot-password",
    auth: AuthLevel::None,
    rate: Some(RateClass::PasswordReset),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(4096),
    access: TABLE_AND_MAIL,
    handler: handler!(forgot_password::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<forgot_password::ForgotBody>()),
        ..RouteDoc::new("auth", "Email a single-use reset link (1 hour); always 200")
    },
};

pub const RESET_PASSWORD: Route = Route {
    function: "auth-reset-password",
    method: Method::POST,
    path: "/api/auth/reset-password",
    auth: AuthLevel::None,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: TABLE,
    handler: handler!(reset_password::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<reset_password::ResetBody>()),
        ..RouteDoc::new("auth", "Set a new password with a reset token; closes every session and unlocks the account")
    },
};

pub const VERIFY_EMAIL: Route = Route {
    function: "auth-verify-email",
    method: Method::POST,
    path: "/api/auth/verify-email",
    auth: AuthLevel::None,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(4096),
    access: TABLE,
    handler: handler!(verify_email::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<verify_email::VerifyBody>()),
        ..RouteDoc::new("auth", "Verify the email address with the token from the email (24 hours, single use)")
    },
};

pub const RESEND_VERIFICATION: Route = Route {
    function: "auth-resend-verification",
    method: Method::POST,
    path: "/api/auth/resend-verification",
    auth: AuthLevel::User,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(1024),
    access: TABLE_AND_MAIL,
    handler: handler!(resend_verification::handle),
    doc: RouteDoc::new("auth", "Send the verification email again (400 when already verified)"),
};

pub const OAUTH: Route = Route {
    function: "auth-oauth",
    method: Method::POST,
    path: "/api/auth/oauth/{provider}",
    auth: AuthLevel::None,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 15,
    max_body: Some(16 * 1024),
    access: ISSUES_TOKENS,
    handler: handler!(oauth::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<oauth::OauthBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        ..RouteDoc::new(
            "auth",
            "Sign in with an OpenID Connect ID token (Google, or a configured issuer); 201 when the account is new",
        )
    },
};

pub const JWKS: Route = Route {
    function: "auth-jwks",
    method: Method::GET,
    path: "/.well-known/jwks.json",
    auth: AuthLevel::None,
    rate: None,
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 5,
    max_body: None,
    access: &[],
    handler: handler!(jwks::handle),
    doc: RouteDoc { raw: true, ..RouteDoc::new("auth", "The public keys (JWKS) that verify access tokens") },
};

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[
    REGISTER,
    LOGIN,
    REFRESH,
    LOGOUT,
    LOGOUT_ALL,
    FORGOT_PASSWORD,
    RESET_PASSWORD,
    VERIFY_EMAIL,
    RESEND_VERIFICATION,
    OAUTH,
    JWKS,
];
