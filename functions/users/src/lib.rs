//! Account routes. Each row below is one Lambda function; its handler is the
//! module of the same name. `JOBS` are this service's job kinds.

pub mod avatar;
pub mod change_email;
pub mod change_password;
pub mod data;
pub mod delete_account;
pub mod export;
pub mod profile;

use http::Method;
use whatif_shared::auth::AuthLevel;
use whatif_shared::handler;
use whatif_shared::jobs::JobKind;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, Route, RouteDoc};

pub const PROFILE_GET: Route = Route {
    function: "users-profile-get",
    method: Method::GET,
    path: "/api/users/profile",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: None,
    access: &[Access::TableRead, Access::BlobRead("avatars/")],
    handler: handler!(profile::get),
    doc: RouteDoc {
        response: Some(|g| g.subschema_for::<profile::ProfileAnswer>()),
        ..RouteDoc::new("users", "The signed-in account's profile")
    },
};

pub const PROFILE_PUT: Route = Route {
    function: "users-profile-put",
    method: Method::PUT,
    path: "/api/users/profile",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(8192),
    access: &[Access::TableRead, Access::TableWrite, Access::BlobRead("avatars/"), Access::BlobWrite("avatars/")],
    handler: handler!(profile::put),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<profile::ProfileBody>()),
        response: Some(|g| g.subschema_for::<profile::ProfileAnswer>()),
        ..RouteDoc::new("users", "Change whitelisted profile fields (names, bio, username, avatar, preferences)")
    },
};

pub const CHANGE_PASSWORD: Route = Route {
    function: "users-change-password",
    method: Method::PUT,
    path: "/api/users/change-password",
    auth: AuthLevel::User,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: &[Access::TableRead, Access::TableWrite, Access::SendEmail],
    handler: handler!(change_password::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<change_password::ChangePasswordBody>()),
        ..RouteDoc::new("users", "Change the password; other sessions are signed out")
    },
};

pub const CHANGE_EMAIL: Route = Route {
    function: "users-change-email",
    method: Method::PUT,
    path: "/api/users/change-email",
    auth: AuthLevel::User,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: &[Access::TableRead, Access::TableWrite, Access::SendEmail],
    handler: handler!(change_email::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<change_email::ChangeEmailBody>()),
        ..RouteDoc::new("users", "Change the email address (the new one must be verified)")
    },
};

pub const AVATAR_UPLOAD_URL: Route = Route {
    function: "users-avatar-upload-url",
    method: Method::POST,
    path: "/api/users/avatar-upload-url",
    auth: AuthLevel::User,
    rate: Some(RateClass::General),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: Some(1024),
    access: &[Access::BlobWrite("avatars/")],
    handler: handler!(avatar::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<avatar::AvatarUploadBody>()),
        response: Some(|g| g.subschema_for::<avatar::AvatarUpload>()),
        ..RouteDoc::new("users", "A presigned PUT for an avatar image (PNG, JPEG or WebP, at most 2 MB)")
    },
};

pub const EXPORT: Route = Route {
    function: "users-export",
    method: Method::GET,
    path: "/api/users/export",
    auth: AuthLevel::User,
    rate: Some(RateClass::Media),
    idempotent: false,
    memory_mb: 128,
    timeout_secs: 10,
    max_body: None,
    access: &[Access::TableRead, Access::TableWrite, Access::QueueSend],
    handler: handler!(export::handle),
    doc: RouteDoc {
        success_status: 202,
        ..RouteDoc::new("users", "Start a data export (a zip of JSON); poll the job for its download URL")
    },
};

pub const DELETE_ACCOUNT: Route = Route {
    function: "users-delete-account",
    method: Method::DELETE,
    path: "/api/users/delete-account",
    auth: AuthLevel::User,
    rate: Some(RateClass::Auth),
    idempotent: false,
    memory_mb: 512,
    timeout_secs: 10,
    max_body: Some(4096),
    access: &[Access::TableRead, Access::TableWrite, Access::QueueSend],
    handler: handler!(delete_account::handle),
    doc: RouteDoc {
        request: Some(|g| g.subschema_for::<delete_account::DeleteAccountBody>()),
        success_status: 202,
        ..RouteDoc::new("users", "Close the account now and delete everything it owns (a job)")
    },
};

/// This service's rows of the route table.
pub const ROUTES: &[Route] =
    &[PROFILE_GET, PROFILE_PUT, CHANGE_PASSWORD, CHANGE_EMAIL, AVATAR_UPLOAD_URL, EXPORT, DELETE_ACCOUNT];

/// This service's job kinds (run by the jobs worker).
pub const JOBS: &[JobKind] = &[
    JobKind { name: export::KIND, handler: |c, m| Box::pin(export::run(c, m)) },
    JobKind { name: delete_account::KIND, handler: |c, m| Box::pin(delete_account::run(c, m)) },
];

/// What the worker needs to touch for these jobs (for its IAM policy).
pub const JOB_ACCESS: &[Access] = &[
    Access::TableRead,
    Access::TableWrite,
    Access::BlobRead("avatars/"),
    Access::BlobWrite("avatars/"),
    Access::BlobWrite("exports/"),
];
