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

use whatif_shared::auth::AuthLevel;
use whatif_shared::config::secrets::SIGNING_KEYS;
use whatif_shared::handler;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, Route, RouteDoc};
use whatif_shared::service::Service;

/// Functions that issue tokens read the private signing keys; nothing else may.
const ISSUES_TOKENS: &[Access] = &[Access::TableRead, Access::TableWrite, Access::SecretRead(SIGNING_KEYS)];
const TABLE: &[Access] = &[Access::TableRead, Access::TableWrite];
const TABLE_AND_MAIL: &[Access] = &[Access::TableRead, Access::TableWrite, Access::SendEmail];

pub const REGISTER: Route = Route::post("auth-register", "/api/auth/register", handler!(register::handle))
    .auth(AuthLevel::None)
    .rate(Some(RateClass::Auth))
    // Argon2id: more memory buys the CPU share that keeps hashing fast.
    .memory(512)
    .max_body(4096)
    .access(&[Access::TableRead, Access::TableWrite, Access::SecretRead(SIGNING_KEYS), Access::SendEmail])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<register::RegisterBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        success_status: 201,
        answers: &[(409, "The email or username is taken")],
        ..RouteDoc::new(
            "auth",
            "Create an account (signed in at once; a verification email is sent). 409 when the email or username is taken",
        )
    });

pub const LOGIN: Route = Route::post("auth-login", "/api/auth/login", handler!(login::handle))
    .auth(AuthLevel::None)
    .rate(Some(RateClass::Auth))
    .memory(512)
    .max_body(4096)
    .access(ISSUES_TOKENS)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<login::LoginBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        answers: &[
            (401, "The email or password is wrong"),
            (403, "The account is suspended or banned"),
            (423, "Locked after 5 failures: see Retry-After"),
        ],
        ..RouteDoc::new("auth", "Sign in with email and password; 5 failures lock the account for 15 minutes (423)")
    });

pub const REFRESH: Route = Route::post("auth-refresh", "/api/auth/refresh", handler!(refresh::handle))
    .auth(AuthLevel::None)
    .max_body(4096)
    .access(ISSUES_TOKENS)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<refresh::RefreshBody>()),
        response: Some(|g| g.subschema_for::<whatif_shared::accounts::sessions::Issued>()),
        answers: &[
            (401, "Not a live refresh token (a reused one closes its session)"),
            (403, "The account is suspended or banned"),
        ],
        ..RouteDoc::new("auth", "Rotate a refresh token; reusing a rotated one closes the whole session")
    });

pub const LOGOUT: Route = Route::post("auth-logout", "/api/auth/logout", handler!(logout::handle))
    .auth(AuthLevel::Optional)
    .max_body(4096)
    .access(TABLE)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<logout::LogoutBody>()),
        optional_body: true,
        ..RouteDoc::new("auth", "Close this session (its access token stops working too)")
    });

pub const LOGOUT_ALL: Route = Route::post("auth-logout-all", "/api/auth/logout-all", handler!(logout_all::handle))
    .max_body(1024)
    .access(TABLE)
    .doc(RouteDoc::new("auth", "Close every session of the account"));

pub const FORGOT_PASSWORD: Route =
    Route::post("auth-forgot-password", "/api/auth/forgot-password", handler!(forgot_password::handle))
        .auth(AuthLevel::None)
        .rate(Some(RateClass::PasswordReset))
        .max_body(4096)
        .access(TABLE_AND_MAIL)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<forgot_password::ForgotBody>()),
            ..RouteDoc::new("auth", "Email a single-use reset link (1 hour); always 200")
        });

pub const RESET_PASSWORD: Route =
    Route::post("auth-reset-password", "/api/auth/reset-password", handler!(reset_password::handle))
        .auth(AuthLevel::None)
        .rate(Some(RateClass::Auth))
        .memory(512)
        .max_body(4096)
        .access(TABLE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<reset_password::ResetBody>()),
            ..RouteDoc::new(
                "auth",
                "Set a new password with a reset token; closes every session and unlocks the account",
            )
        });

pub const VERIFY_EMAIL: Route =
    Route::post("auth-verify-email", "/api/auth/verify-email", handler!(verify_email::handle))
        .auth(AuthLevel::None)
        .rate(Some(RateClass::Auth))
        .max_body(4096)
        .access(TABLE)
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<verify_email::VerifyBody>()),
            ..RouteDoc::new("auth", "Verify the email address with the token from the email (24 hours, single use)")
        });

pub const RESEND_VERIFICATION: Route =
    Route::post("auth-resend-verification", "/api/auth/resend-verification", handler!(resend_verification::handle))
        .rate(Some(RateClass::Auth))
        .max_body(1024)
        .access(TABLE_AND_MAIL)
        .doc(RouteDoc::new("auth", "Send the verification email again (400 when already verified)"));

pub const OAUTH: Route = Route::post("auth-oauth", "/api/auth/oauth/{provider}", handler!(oauth::handle))
    .auth(AuthLevel::None)
    .rate(Some(RateClass::Auth))
    .timeout(15)
    .max_body(16 * 1024)
    .access(ISSUES_TOKENS)
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<oauth::OauthBody>()),
        response: Some(|g| g.subschema_for::<common::SignedIn>()),
        answers: &[
            (201, "Signed in to a new account"),
            (401, "The ID token is not valid for this provider"),
            (403, "The account is suspended or banned"),
            (404, "No such sign-in provider"),
            (409, "The email belongs to an account that has not linked this identity"),
        ],
        ..RouteDoc::new(
            "auth",
            "Sign in with an OpenID Connect ID token (Google, or a configured issuer); 201 when the account is new",
        )
    });

pub const JWKS: Route = Route::get("auth-jwks", "/.well-known/jwks.json", handler!(jwks::handle))
    .auth(AuthLevel::None)
    .rate(None)
    .timeout(5)
    .doc(RouteDoc { raw: true, ..RouteDoc::new("auth", "The public keys (JWKS) that verify access tokens") });

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

/// The auth service: accounts' sign-in, tokens and email flows.
pub const SERVICE: Service = Service { routes: ROUTES, ..Service::new("auth") };
