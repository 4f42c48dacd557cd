//! The OpenAPI 3.1 document, made from the route table (`whatif-local openapi`
//! writes it to `docs/openapi.json`; a test fails when the two differ).

use std::collections::BTreeMap;

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::auth::AuthLevel;
use crate::routes::{Param, Route};

pub fn document(routes: &[&Route], version: &str) -> Value {
    let mut generator = SchemaGenerator::new(SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas/".into();
        s.meta_schema = None;
    }));
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in routes {
        if !tags.contains(&route.doc.tag) {
            tags.push(route.doc.tag);
        }
        paths
            .entry(route.path)
            .or_default()
            .insert(route.method.as_str().to_ascii_lowercase(), operation(route, &mut generator));
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.insert("Error".into(), error_schema());
    schemas.insert("Pagination".into(), pagination_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "What If Generator API",
            "version": version,
            "description": "Turns \"what if ...?\" questions into structured, branching scenarios. Every route is its own Lambda function behind one HTTP API; the same routes run on one machine with `whatif-local`. Successful answers are `{success: true, data, message?}`; failures are `{success: false, message, code, errors?, requestId, retryAfter?}`. Every response carries `X-Request-Id`; rate-limited routes carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds)."
        },
        "servers": [{"url": "/"}],
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas,
        }
    })
}

fn operation(route: &Route, generator: &mut SchemaGenerator) -> Value {
    let doc = &route.doc;
    let mut op = json!({
        "operationId": route.function,
        "summary": doc.summary,
        "tags": [doc.tag],
        "x-whatif": {
            "function": route.function,
            "auth": route.auth,
            "rateLimitClass": route.rate.map(|r| r.name()),
            "memoryMb": route.memory_mb,
            "timeoutSeconds": route.timeout_secs,
            "idempotent": route.idempotent,
        },
    });
    match route.auth {
        AuthLevel::None => op["security"] = json!([]),
        AuthLevel::Optional => op["security"] = json!([{}, {"bearerAuth": []}]),
        _ => op["security"] = json!([{"bearerAuth": []}]),
    }
    let mut params: Vec<Value> = route
        .path_params()
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": path_schema(name)}))
        .collect();
    params.extend(doc.query.iter().map(|q| {
        let mut param = json!({"name": q.name, "in": "query", "required": q.required, "description": q.description, "schema": param_schema(q.schema)});
        if !q.required {
            // An empty value is the same as leaving it out (`ApiRequest::query_param`).
            param["allowEmptyValue"] = json!(true);
        }
        param
    }));
    params.extend(doc.headers.iter().map(|h| {
        json!({"name": h.name, "in": "header", "required": false, "description": h.description, "schema": param_schema(h.schema)})
    }));
    if route.idempotent {
        params.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "description": "Retries with the same key and body get the first response (kept 24 h); another body gets 409.", "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}}));
    }
    if !params.is_empty() {
        op["parameters"] = json!(params);
    }
    if let Some(request) = doc.request {
        op["requestBody"] =
            json!({"required": !doc.optional_body, "content": {"application/json": {"schema": request(generator)}}});
    }
    let data = doc.response.map(|r| r(generator)).unwrap_or_else(|| json!({}).try_into().unwrap_or_default());
    let envelope = |data: Value| {
        json!({"type": "object", "required": ["success", "data"], "properties": {
            "success": {"const": true}, "data": data, "message": {"type": "string"}}})
    };
    let success = if doc.raw { data.to_value() } else { envelope(data.to_value()) };
    let mut responses = Map::new();
    let content: Map<String, Value> = match doc.content {
        [] => [("application/json".to_string(), json!({"schema": success}))].into_iter().collect(),
        types => types.iter().map(|t| (t.to_string(), json!({"schema": content_schema(t, &success)}))).collect(),
    };
    responses.insert(doc.success_status.to_string(), json!({"description": "Success", "content": content.clone()}));
    if let Some(accepted) = doc.accepted {
        let schema = envelope(accepted(generator).to_value());
        responses.insert(
            "202".into(),
            json!({"description": "Running as a job: poll it", "content": {"application/json": {"schema": schema}}}),
        );
    }
    let error_answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut error = |status: u16, description: &str| {
        responses.insert(status.to_string(), error_answer(description));
    };
    if doc.request.is_some() || !doc.query.is_empty() || !route.path_params().is_empty() {
        error(400, "The request is not valid");
    }
    if route.auth != AuthLevel::None {
        error(401, "No token, or a bad or expired one");
        error(403, "Not allowed, or the account is suspended or banned");
    }
    if !route.path_params().is_empty() {
        error(404, "Not found (also when the caller may not see it)");
    }
    if route.idempotent {
        error(409, "The Idempotency-Key was used with another body, or its first request is still running");
    }
    if doc.request.is_some() {
        error(413, "The body is too large");
        error(415, "The body is not application/json");
    }
    if route.rate.is_some() {
        error(429, "Rate limited: see Retry-After");
    }
    error(503, "A dependency is unavailable");
    for (status, description) in doc.answers {
        let answer = match status {
            200..=299 => json!({"description": description, "content": content.clone()}),
            300..=399 => json!({"description": description}),
            _ => error_answer(description),
        };
        responses.insert(status.to_string(), answer);
    }
    op["responses"] = Value::Object(responses);
    op
}

/// A ULID as the API issues and reads them (Crockford base 32, any case).
pub const ULID_PATTERN: &str = "^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$";

/// A share id: 22 URL-safe characters, the base64url of 16 bytes (so the
/// last one carries 2 bits: A, Q, g or w), then the shared scenario's id in
/// upper case (absent from ids issued before they named it).
pub const SHARE_ID_PATTERN: &str = "^[A-Za-z0-9_-]{21}[AQgw]([0-7][0-9A-HJKMNP-TV-Z]{25})?$";

/// Free text without control characters (new lines allowed), as
/// `accounts::types::text` takes it.
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$";

/// The schema of a path parameter, by its name: the API's ids are ULIDs,
/// share ids [`SHARE_ID_PATTERN`].
fn path_schema(name: &str) -> Value {
    match name {
        "shareUrl" => json!({"type": "string", "pattern": SHARE_ID_PATTERN}),
        "provider" => json!({"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"}),
        "username" => json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{2,29}$"}),
        _ => json!({"type": "string", "pattern": ULID_PATTERN}),
    }
}

fn param_schema(param: Param) -> Value {
    match param {
        Param::Text { min, max } => json!({"type": "string", "minLength": min, "maxLength": max}),
        Param::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Param::OneOf(values) => json!({"type": "string", "enum": values}),
        Param::Boolean => json!({"type": "boolean"}),
        Param::Day => json!({"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}),
        Param::Ulid => json!({"type": "string", "pattern": ULID_PATTERN}),
        Param::Cursor => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,2048}$"}),
        Param::AnyText => json!({"type": "string"}),
        Param::Pattern { pattern, max } => json!({"type": "string", "pattern": pattern, "maxLength": max}),
    }
}

/// A raw answer's schema in `content_type`: JSON as documented, anything else bytes or text.
fn content_schema(content_type: &str, json: &Value) -> Value {
    match content_type {
        "application/json" => json.clone(),
        t if t.starts_with("text/") || t == "image/svg+xml" => json!({"type": "string"}),
        _ => json!({"type": "string", "format": "binary"}),
    }
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["success", "message", "code", "requestId"],
        "properties": {
            "success": {"const": false},
            "message": {"type": "string"},
            "code": {"type": "string", "description": "A machine code such as VALIDATION_ERROR, UNAUTHORIZED, NOT_FOUND, RATE_LIMITED"},
            "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
            "requestId": {"type": "string"},
            "retryAfter": {"type": "integer", "description": "Seconds, with 423 and 429"}
        }
    })
}

fn pagination_schema() -> Value {
    json!({
        "type": "object",
        "required": ["page", "limit", "total", "totalPages", "hasNext", "hasPrev"],
        "properties": {
            "page": {"type": "integer", "minimum": 1},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer"},
            "totalPages": {"type": "integer"},
            "hasNext": {"type": "boolean"},
            "hasPrev": {"type": "boolean"}
        }
    })
}
