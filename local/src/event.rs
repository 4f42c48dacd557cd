//! Builds the API Gateway HTTP API (payload 2.0) event for a request, as AWS
//! would send it to the route's Lambda.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::request::Parts;
use serde_json::{Map, Value, json};
use whatif_shared::routes::Route;

pub fn api_gateway_v2(
    route: &Route,
    parts: &Parts,
    body: &Bytes,
    path_params: &[(String, String)],
    source_ip: &str,
    request_id: &str,
    now: time::OffsetDateTime,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| json!(c.trim())));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), json!(value));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let mut query = Map::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        match query.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k.into_owned(), json!(v));
            }
        }
    }
    let params: Map<String, Value> = path_params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let textual = content_type.is_empty()
        || content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || content_type.contains("x-www-form-urlencoded");
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) if textual => (json!(text), false),
        _ => (json!(STANDARD.encode(body)), true),
    };
    let time = now
        .format(&time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"))
        .unwrap_or_default();
    let host = parts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key(),
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "whatif-local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or(host),
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route.route_key(),
            "stage": "$default",
            "time": time,
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !params.is_empty() {
        event["pathParameters"] = Value::Object(params);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}
