//! The request a handler sees and the reply it returns. Handlers never touch
//! the Lambda event: `pipeline` builds an `ApiRequest` from it.

use std::collections::HashMap;
use std::net::IpAddr;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The path as the client sent it (without the query).
    pub path: String,
    pub path_params: HashMap<String, String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub request_id: String,
    pub source_ip: Option<IpAddr>,
    pub principal: Option<Principal>,
}

impl ApiRequest {
    /// A request with nothing but a method and path (tests and tools).
    pub fn new(method: Method, path: &str) -> Self {
        Self {
            method,
            path: path.to_string(),
            path_params: HashMap::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            request_id: "test".into(),
            source_ip: None,
            principal: None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body as `T` (which should `deny_unknown_fields`): 415 for another
    /// content type, 400 naming the field for anything that does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let content_type = self.header("content-type").unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::unsupported_media_type());
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("INVALID_JSON", "A JSON body is required"));
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::bad_request("INVALID_JSON", "The body is not valid JSON")
            } else {
                let field = if path == "." { "body".to_string() } else { path };
                ApiError::validation(&field, clean_serde_message(&inner.to_string()))
            }
        })?;
        de.end().map_err(|_| ApiError::bad_request("INVALID_JSON", "The body is not valid JSON"))?;
        Ok(value)
    }

    pub fn path_param(&self, name: &str) -> ApiResult<&str> {
        self.path_params.get(name).map(String::as_str).ok_or_else(|| ApiError::validation(name, "is required"))
    }

    /// A path parameter that must be a ULID (400 otherwise).
    pub fn path_ulid(&self, name: &str) -> ApiResult<ulid::Ulid> {
        let raw = self.path_param(name)?;
        ulid::Ulid::from_string(raw).map_err(|_| ApiError::validation(name, "is not a valid id"))
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The query string as `T` (unknown parameters are the type's business).
    pub fn query_as<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let encoded = serde_urlencoded::to_string(&self.query).map_err(ApiError::internal)?;
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(encoded.as_bytes()));
        serde_path_to_error::deserialize(de).map_err(|err| {
            let field = err.path().to_string();
            ApiError::validation(&field, clean_serde_message(&err.into_inner().to_string()))
        })
    }

    /// The signed-in caller (routes at level user and above always have one).
    pub fn user(&self) -> ApiResult<&Principal> {
        self.principal.as_ref().ok_or_else(|| ApiError::unauthorized("Sign in first"))
    }
}

/// serde's messages are fine for clients, minus the position suffix.
fn clean_serde_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    Empty,
    Json(Value),
    Bytes { content_type: String, bytes: Bytes },
}

impl Reply {
    /// 200 `{"success": true, "data": data}`.
    pub fn ok(data: impl Serialize) -> Self {
        Self::enveloped(StatusCode::OK, data)
    }
    pub fn created(data: impl Serialize) -> Self {
        Self::enveloped(StatusCode::CREATED, data)
    }
    pub fn accepted(data: impl Serialize) -> Self {
        Self::enveloped(StatusCode::ACCEPTED, data)
    }

    pub fn enveloped(status: StatusCode, data: impl Serialize) -> Self {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Self { status, body: ReplyBody::Json(json!({"success": true, "data": data})), headers: Vec::new() }
    }

    /// A JSON body as it is, without the envelope (documents like OpenAPI).
    pub fn raw_json(status: StatusCode, body: Value) -> Self {
        Self { status, body: ReplyBody::Json(body), headers: Vec::new() }
    }

    pub fn bytes(status: StatusCode, content_type: &str, bytes: impl Into<Bytes>) -> Self {
        Self {
            status,
            body: ReplyBody::Bytes { content_type: content_type.to_string(), bytes: bytes.into() },
            headers: Vec::new(),
        }
    }

    pub fn no_content() -> Self {
        Self { status: StatusCode::NO_CONTENT, body: ReplyBody::Empty, headers: Vec::new() }
    }

    /// Adds `message` next to `data` in the envelope.
    pub fn message(mut self, message: &str) -> Self {
        if let ReplyBody::Json(Value::Object(map)) = &mut self.body {
            map.insert("message".into(), Value::String(message.to_string()));
        }
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn content_type(&self) -> &str {
        match &self.body {
            ReplyBody::Json(_) => "application/json",
            ReplyBody::Bytes { content_type, .. } => content_type,
            ReplyBody::Empty => "",
        }
    }

    pub fn body_bytes(&self) -> Bytes {
        match &self.body {
            ReplyBody::Empty => Bytes::new(),
            ReplyBody::Json(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            ReplyBody::Bytes { bytes, .. } => bytes.clone(),
        }
    }

    /// The reply as an `http::Response` (pipeline adds the common headers).
    pub fn into_response(self) -> http::Response<Bytes> {
        let content_type = self.content_type().to_string();
        let body = self.body_bytes();
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        if !content_type.is_empty()
            && let Ok(value) = HeaderValue::from_str(&content_type)
        {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u8>,
    }

    fn with_body(content_type: &str, body: &str) -> ApiRequest {
        let mut req = ApiRequest::new(Method::POST, "/x");
        req.headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
        req.body = Bytes::from(body.to_string());
        req
    }

    #[test]
    fn json_bodies_are_typed_and_strict() {
        assert!(with_body("application/json; charset=utf-8", r#"{"email":"a@b.c"}"#).json::<Body>().is_ok());
        let err = with_body("text/plain", r#"{"email":"a@b.c"}"#).json::<Body>().unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let err = with_body("application/json", r#"{"email":"a@b.c","role":"admin"}"#).json::<Body>().unwrap_err();
        assert_eq!((err.status, err.code), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));
        assert!(err.message.contains("role"), "{}", err.message);
        let err = with_body("application/json", r#"{"email":"a@b.c","age":300}"#).json::<Body>().unwrap_err();
        assert_eq!(err.errors[0].field, "age");
        let err = with_body("application/json", r#"{"email":"#).json::<Body>().unwrap_err();
        assert_eq!(err.code, "INVALID_JSON");
        let err = with_body("application/json", "").json::<Body>().unwrap_err();
        assert_eq!(err.code, "INVALID_JSON");
    }
}
