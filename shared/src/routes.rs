//! The route table's row type. Each service crate lists its rows in its
//! `lib.rs` (`ROUTES`); `whatif-local` joins them into the one table that the
//! local server mounts and the OpenAPI document and templates are made from.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;

use crate::auth::AuthLevel;
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::http::{ApiRequest, Reply};
use crate::ratelimit::RateClass;

pub type HandlerFuture = Pin<Box<dyn Future<Output = ApiResult<Reply>> + Send>>;
pub type Handler = fn(Arc<AppContext>, ApiRequest) -> HandlerFuture;

/// One route = one Lambda function.
#[derive(Clone)]
pub struct Route {
    /// The function's name: its binary, its Lambda, its `events/<name>.json`.
    pub function: &'static str,
    pub method: Method,
    /// API Gateway's route path, with `{param}` segments.
    pub path: &'static str,
    pub auth: AuthLevel,
    /// None: not rate limited (platform routes).
    pub rate: Option<RateClass>,
    /// Honours `Idempotency-Key`.
    pub idempotent: bool,
    pub memory_mb: u32,
    pub timeout_secs: u32,
    /// The largest body this route takes (None: the configured default).
    pub max_body: Option<usize>,
    /// What the function may touch beyond what every function gets (see
    /// `Access`); the templates turn this into its IAM policy.
    pub access: &'static [Access],
    pub handler: Handler,
    pub doc: RouteDoc,
}

/// A capability a function needs, turned into least-privilege IAM by the
/// templates. Every function also gets what the pipeline needs: `GetItem` on
/// the table (token status, JWKS) and `UpdateItem` on rate-limit (`RL#*`) and
/// idempotency (`IDEM#*`) items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "scope", rename_all = "camelCase")]
pub enum Access {
    /// GetItem, BatchGetItem, Query on the table and its indexes.
    TableRead,
    /// PutItem, UpdateItem, DeleteItem, TransactWriteItems (and ConditionCheck).
    TableWrite,
    /// DescribeTable, HeadBucket, GetQueueAttributes: the health checks.
    HealthChecks,
    /// GetObject under a key prefix (also what presigned GETs need).
    BlobRead(&'static str),
    /// PutObject and DeleteObject under a key prefix (also presigned PUTs).
    BlobWrite(&'static str),
    /// SendMessage to the job queue.
    QueueSend,
    /// ReceiveMessage, DeleteMessage, ChangeMessageVisibility on the job queue.
    QueueConsume,
    /// GetSecretValue on one secret (its name without the stage prefix).
    SecretRead(&'static str),
    /// PutSecretValue on one secret (key rotation).
    SecretWrite(&'static str),
    /// SES SendEmail from the configured sender.
    SendEmail,
    /// Bedrock model calls (InvokeModel, which Converse is authorised as).
    InvokeModel,
}

/// What the OpenAPI document says about a route.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    pub tag: &'static str,
    pub summary: &'static str,
    /// The JSON body's schema (`|g| g.subschema_for::<Body>()`).
    pub request: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    /// The success response's `data` schema (the whole body when `raw`).
    pub response: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    pub success_status: u16,
    /// The body is not wrapped in the `{success, data}` envelope.
    pub raw: bool,
    pub query: &'static [QueryDoc],
}

#[derive(Clone, Copy)]
pub struct QueryDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
}

impl RouteDoc {
    pub const fn new(tag: &'static str, summary: &'static str) -> Self {
        Self { tag, summary, request: None, response: None, success_status: 200, raw: false, query: &[] }
    }
}

impl Route {
    /// Matches a request path against this route's template; returns the path
    /// parameters (percent-decoded) when it fits.
    pub fn match_path(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return Some(params),
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                    if g.is_empty() {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(g).decode_utf8().ok()?;
                    params.push((w[1..w.len() - 1].to_string(), value.into_owned()));
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return None,
            }
        }
    }

    /// API Gateway's route key, e.g. `GET /api/jobs/{jobId}`.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameter names, in order.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }
}

/// Wraps an `async fn(Arc<AppContext>, ApiRequest) -> ApiResult<Reply>` as a `Handler`.
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn boxed(
            ctx: ::std::sync::Arc<$crate::context::AppContext>,
            req: $crate::http::ApiRequest,
        ) -> $crate::routes::HandlerFuture {
            ::std::boxed::Box::pin($f(ctx, req))
        }
        boxed as $crate::routes::Handler
    }};
}
