//! The one-machine server: every route of the table on one HTTP listener,
//! called exactly as API Gateway calls the Lambda (a v2 event, deserialised by
//! lambda_http itself), with the job workers running in-process.

pub mod admin;
mod blobs;
mod event;
pub mod server;
pub mod template;

use whatif_shared::routes::Route;

/// The route table: every service's rows, joined. The local server mounts it;
/// the OpenAPI document and the infrastructure templates are made from it.
pub fn routes() -> Vec<&'static Route> {
    [
        whatif_platform::ROUTES,
        whatif_auth::ROUTES,
        whatif_users::ROUTES,
        whatif_jobs::ROUTES,
        whatif_generation::ROUTES,
        whatif_history::ROUTES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The OpenAPI document of the whole table, as committed in `docs/openapi.json`.
pub fn openapi_document() -> String {
    let doc = whatif_shared::openapi::document(&routes(), env!("CARGO_PKG_VERSION"));
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

pub use server::{Server, bind};

/// The route table as JSON (for the CDK app and for people).
pub fn routes_json() -> String {
    let rows: Vec<serde_json::Value> = routes()
        .iter()
        .map(|r| {
            serde_json::json!({
                "function": r.function,
                "method": r.method.as_str(),
                "path": r.path,
                "auth": r.auth,
                "rateLimitClass": r.rate.map(|c| c.name()),
                "idempotent": r.idempotent,
                "memoryMb": r.memory_mb,
                "timeoutSeconds": r.timeout_secs,
                "maxBodyBytes": r.max_body,
                "access": r.access,
                "policy": whatif_shared::iam::statements(r.access),
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default()
}
