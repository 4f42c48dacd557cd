//! Account routes. Each row below is one Lambda function; its handler is the
//! module of the same name. `JOBS` are this service's job kinds.

pub mod avatar;
pub mod change_email;
pub mod change_password;
pub mod data;
pub mod delete_account;
pub mod export;
pub mod profile;

use whatif_shared::handler;
use whatif_shared::jobs::JobKind;
use whatif_shared::keys;
use whatif_shared::ratelimit::RateClass;
use whatif_shared::routes::{Access, Route, RouteDoc};
use whatif_shared::service::Service;

pub const PROFILE_GET: Route = Route::get("users-profile-get", "/api/users/profile", handler!(profile::get))
    .access(&[Access::TableRead, Access::BlobRead(keys::AVATARS)])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<profile::ProfileAnswer>()),
        ..RouteDoc::new("users", "The signed-in account's profile")
    });

pub const PROFILE_PUT: Route = Route::put("users-profile-put", "/api/users/profile", handler!(profile::put))
    .max_body(8192)
    .access(&[
        Access::TableRead,
        Access::TableWrite,
        // The upload is checked (read), then deleted; the avatar is written, the old one deleted.
        Access::BlobRead(keys::TMP_AVATARS),
        Access::BlobWrite(keys::TMP_AVATARS),
        Access::BlobRead(keys::AVATARS),
        Access::BlobWrite(keys::AVATARS),
    ])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<profile::ProfileBody>()),
        response: Some(|g| g.subschema_for::<profile::ProfileAnswer>()),
        answers: &[(409, "The username is taken (USERNAME_TAKEN)")],
        ..RouteDoc::new("users", "Change whitelisted profile fields (names, bio, username, avatar, preferences)")
    });

pub const CHANGE_PASSWORD: Route =
    Route::put("users-change-password", "/api/users/change-password", handler!(change_password::handle))
        .rate(Some(RateClass::Auth))
        .memory(512)
        .max_body(4096)
        .access(&[Access::TableRead, Access::TableWrite, Access::SendEmail])
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<change_password::ChangePasswordBody>()),
            ..RouteDoc::new("users", "Change the password; other sessions are signed out")
        });

pub const CHANGE_EMAIL: Route =
    Route::put("users-change-email", "/api/users/change-email", handler!(change_email::handle))
        .rate(Some(RateClass::Auth))
        .memory(512)
        .max_body(4096)
        .access(&[Access::TableRead, Access::TableWrite, Access::SendEmail])
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<change_email::ChangeEmailBody>()),
            ..RouteDoc::new("users", "Change the email address (the new one must be verified)")
        });

pub const AVATAR_UPLOAD_URL: Route =
    Route::post("users-avatar-upload-url", "/api/users/avatar-upload-url", handler!(avatar::handle))
        .max_body(1024)
        .access(&[Access::BlobWrite(keys::TMP_AVATARS)])
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<avatar::AvatarUploadBody>()),
            response: Some(|g| g.subschema_for::<avatar::AvatarUpload>()),
            ..RouteDoc::new("users", "A presigned PUT for an avatar image (PNG, JPEG or WebP, at most 2 MiB)")
        });

pub const EXPORT: Route = Route::get("users-export", "/api/users/export", handler!(export::handle))
    .rate(Some(RateClass::Media))
    .access(&[Access::TableRead, Access::TableWrite, Access::QueueSend])
    .doc(RouteDoc {
        success_status: 202,
        ..RouteDoc::new("users", "Start a data export (a zip of JSON); poll the job for its download URL")
    });

pub const DELETE_ACCOUNT: Route =
    Route::delete("users-delete-account", "/api/users/delete-account", handler!(delete_account::handle))
        .rate(Some(RateClass::Auth))
        .memory(512)
        .max_body(4096)
        .access(&[Access::TableRead, Access::TableWrite, Access::QueueSend])
        .doc(RouteDoc {
            request: Some(|g| g.subschema_for::<delete_account::DeleteAccountBody>()),
            success_status: 202,
            ..RouteDoc::new("users", "Close the account now and delete everything it owns (a job)")
        });

/// This service's rows of the route table.
pub const ROUTES: &[Route] =
    &[PROFILE_GET, PROFILE_PUT, CHANGE_PASSWORD, CHANGE_EMAIL, AVATAR_UPLOAD_URL, EXPORT, DELETE_ACCOUNT];

/// The export: every owner's data into one zip under `exports/<user>/`.
const EXPORT_JOB: &[Access] = &[Access::TableRead, Access::TableWrite, Access::BlobWrite(keys::EXPORTS)];
/// The deletion: its job record (each owner states what it deletes).
const DELETE_JOB: &[Access] = &[Access::TableRead, Access::TableWrite];

/// This service's job kinds (run by the jobs worker).
pub const JOBS: &[JobKind] = &[
    JobKind { name: export::KIND, handler: |c, m| Box::pin(export::run(c, m)), access: EXPORT_JOB },
    JobKind { name: delete_account::KIND, handler: |c, m| Box::pin(delete_account::run(c, m)), access: DELETE_JOB },
];

/// The users service: profiles, credentials, the account's data export and deletion.
pub const SERVICE: Service = Service { routes: ROUTES, jobs: JOBS, owns: data::OWNERS, ..Service::new("users") };
