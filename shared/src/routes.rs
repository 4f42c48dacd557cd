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
pub type HandlerFn = fn(Arc<AppContext>, ApiRequest) -> HandlerFuture;

/// A route's handler and where its code is (made by [`handler!`]).
#[derive(Clone, Copy)]
pub struct Handler {
    pub run: HandlerFn,
    /// The handler as written in its row, e.g. `get::handle`.
    pub name: &'static str,
    /// The file that holds the row (`file!()`), from which the handler's own
    /// file is found: `functions/history/src/lib.rs` + `get::handle` ->
    /// `functions/history/src/get.rs`.
    pub row_file: &'static str,
}

impl Handler {
    /// The handler's source file, relative to the workspace root.
    pub fn file(&self) -> String {
        let dir = self.row_file.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut segments: Vec<&str> = self.name.split("::").collect();
        segments.pop(); // the function itself
        if segments.is_empty() {
            return self.row_file.to_string();
        }
        format!("{dir}/{}.rs", segments.join("/"))
    }
}

/// One route = one Lambda function. Rows are written with the builder below,
/// stating only what differs from [`Route::new`]'s defaults:
///
/// ```ignore
/// pub const GET: Route = Route::get("history-get", "/api/scenarios/{id}", handler!(get::handle))
///     .access(READ)
///     .doc(RouteDoc::new("history", "One of my scenarios"));
/// ```
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
    /// Speech synthesis (Polly's SynthesizeSpeech and DescribeVoices).
    Speech,
}

/// What the OpenAPI document says about a route.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    pub tag: &'static str,
    pub summary: &'static str,
    /// The JSON body's schema (`|g| g.subschema_for::<Body>()`).
    pub request: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    /// The body may be left out (an empty body is the body's defaults).
    pub optional_body: bool,
    /// The success response's `data` schema (the whole body when `raw`).
    pub response: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    /// When the work can also run as a job: the 202 answer's `data` schema.
    pub accepted: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    pub success_status: u16,
    /// The body is not wrapped in the `{success, data}` envelope.
    pub raw: bool,
    /// The content types of a raw answer (`application/json` when empty).
    pub content: &'static [&'static str],
    pub query: &'static [QueryDoc],
    /// Request headers the route reads, beyond `Authorization` and `Idempotency-Key`.
    pub headers: &'static [HeaderDoc],
    /// Answers this route gives beyond what its row implies (400 for input,
    /// 401/403 for auth, 404 for path ids, 409 for idempotency, 413/415 for
    /// bodies, 429 for limits, 503): status and when.
    pub answers: &'static [(u16, &'static str)],
}

/// A query parameter: its name, what it means, and the values it takes.
#[derive(Clone, Copy)]
pub struct QueryDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub schema: Param,
}

/// The values a query or header parameter takes (its schema in the document).
#[derive(Clone, Copy, Debug)]
pub enum Param {
    /// Text of `min..=max` characters.
    Text { min: u32, max: u32 },
    /// A whole number in `min..=max`.
    Integer { min: i64, max: i64 },
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// `true` or `false`.
    Boolean,
    /// A day (`2026-11-30`) or an RFC 3339 time.
    Day,
    /// A ULID.
    Ulid,
    /// An opaque cursor the API gave out (`nextCursor`).
    Cursor,
    /// Any text (a header the route reads when it can and otherwise ignores).
    AnyText,
    /// Text of at most `max` characters matching `pattern`.
    Pattern { pattern: &'static str, max: u32 },
}

/// A request header a route reads.
#[derive(Clone, Copy)]
pub struct HeaderDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: Param,
}

impl QueryDoc {
    /// An optional parameter.
    pub const fn new(name: &'static str, description: &'static str, schema: Param) -> Self {
        Self { name, description, required: false, schema }
    }

    /// The same, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// `If-None-Match`: the client holds an answer with this `ETag` (304 when it is current).
pub const IF_NONE_MATCH: HeaderDoc = HeaderDoc {
    name: "If-None-Match",
    description: "ETags the client holds: 304 when the answer is one of them (anything else is ignored)",
    schema: Param::AnyText,
};

/// The answer of a route that spends credits when the caller has too few.
pub const OUT_OF_CREDITS: (u16, &str) = (402, "Not enough credits (INSUFFICIENT_CREDITS); nothing was done or charged");

/// `page`, `limit` and `cursor`, as every paged listing takes them.
pub const PAGE: QueryDoc = QueryDoc::new("page", "1-based page (default 1)", Param::Integer { min: 1, max: 1_000_000 });
pub const LIMIT: QueryDoc = QueryDoc::new("limit", "1–100 (default 20)", Param::Integer { min: 1, max: 100 });
pub const CURSOR: QueryDoc =
    QueryDoc::new("cursor", "pagination.nextCursor of the previous page (instead of page)", Param::Cursor);

impl RouteDoc {
    pub const fn new(tag: &'static str, summary: &'static str) -> Self {
        Self {
            tag,
            summary,
            request: None,
            optional_body: false,
            response: None,
            accepted: None,
            success_status: 200,
            raw: false,
            content: &[],
            query: &[],
            headers: &[],
            answers: &[],
        }
    }
}

impl Route {
    /// A route with the defaults every row starts from: signed-in callers
    /// only, the general rate class, not idempotent, 128 MB, 10 s, the
    /// configured body limit, no access beyond the pipeline's, no summary.
    pub const fn new(function: &'static str, method: Method, path: &'static str, handler: Handler) -> Self {
        Self {
            function,
            method,
            path,
            auth: AuthLevel::User,
            rate: Some(RateClass::General),
            idempotent: false,
            memory_mb: 128,
            timeout_secs: 10,
            max_body: None,
            access: &[],
            handler,
            doc: RouteDoc::new("", ""),
        }
    }

    pub const fn get(function: &'static str, path: &'static str, handler: Handler) -> Self {
        Self::new(function, Method::GET, path, handler)
    }

    pub const fn post(function: &'static str, path: &'static str, handler: Handler) -> Self {
        Self::new(function, Method::POST, path, handler)
    }

    pub const fn put(function: &'static str, path: &'static str, handler: Handler) -> Self {
        Self::new(function, Method::PUT, path, handler)
    }

    pub const fn patch(function: &'static str, path: &'static str, handler: Handler) -> Self {
        Self::new(function, Method::PATCH, path, handler)
    }

    pub const fn delete(function: &'static str, path: &'static str, handler: Handler) -> Self {
        Self::new(function, Method::DELETE, path, handler)
    }

    pub const fn auth(mut self, auth: AuthLevel) -> Self {
        self.auth = auth;
        self
    }

    /// `None`: not rate limited (platform routes).
    pub const fn rate(mut self, rate: Option<RateClass>) -> Self {
        self.rate = rate;
        self
    }

    /// Honours `Idempotency-Key`.
    pub const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub const fn memory(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    pub const fn timeout(mut self, secs: u32) -> Self {
        self.timeout_secs = secs;
        self
    }

    pub const fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    pub const fn access(mut self, access: &'static [Access]) -> Self {
        self.access = access;
        self
    }

    pub const fn doc(mut self, doc: RouteDoc) -> Self {
        self.doc = doc;
        self
    }

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

    /// Whether the handler runs alongside the request's checks (the rate
    /// limit and the account status) instead of after them: a `GET` that
    /// spends nothing (no rate class beyond `general`), so all it does before
    /// the checks pass is read. Its changes (a view counted, a job queued)
    /// still wait for the checks (`crate::metering`), and its answer is
    /// dropped when they refuse. A `GET` that spends (a model call: `generate`)
    /// runs after them, as every other method does.
    pub fn checks_alongside(&self) -> bool {
        self.method == Method::GET && !self.idempotent && matches!(self.rate, None | Some(RateClass::General))
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

/// Wraps an `async fn(Arc<AppContext>, ApiRequest) -> ApiResult<Reply>` as a
/// `Handler`, noting where it is written (for `whatif-local routes`).
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn boxed(
            ctx: ::std::sync::Arc<$crate::context::AppContext>,
            req: $crate::http::ApiRequest,
        ) -> $crate::routes::HandlerFuture {
            ::std::boxed::Box::pin($f(ctx, req))
        }
        $crate::routes::Handler { run: boxed, name: stringify!($f), row_file: file!() }
    }};
}
