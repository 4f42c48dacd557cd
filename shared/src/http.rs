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
        // Every body is an object: an array (or a bare value) where an object
        // is expected must not be read field by field as if it were one.
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        // JSON is UTF-8 (RFC 8259); serde_json skips over bad bytes in a key
        // it does not keep, and then cannot name the field.
        if first == Some(b'{') && std::str::from_utf8(&self.body).is_err() {
            return Err(ApiError::bad_request("INVALID_JSON", "The body is not valid JSON (it must be UTF-8)"));
        }
        if first != Some(b'{') {
            return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(&self.body) {
                Ok(_) => {
                    ApiError::validation("body", "must be a JSON object").with_message("The body must be a JSON object")
                }
                Err(_) => ApiError::bad_request("INVALID_JSON", "The body is not valid JSON"),
            });
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let err = match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => {
                de.end().map_err(|_| ApiError::bad_request("INVALID_JSON", "The body is not valid JSON"))?;
                return Ok(value);
            }
            Err(err) => err,
        };
        // JSON has one kind of number: `2.0` is the whole number 2 (JSON
        // Schema's `integer` agrees), which serde reads only as a float.
        if err.inner().to_string().starts_with("invalid type: floating point")
            && let Some(value) = whole_numbers(&self.body).and_then(|v| T::deserialize(v).ok())
        {
            return Ok(value);
        }
        let path = err.path().to_string();
        let inner = err.into_inner();
        let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(&self.body).is_ok();
        Err(if inner.is_eof() || (inner.is_syntax() && !well_formed()) {
            ApiError::bad_request("INVALID_JSON", "The body is not valid JSON")
        } else if inner.is_syntax() {
            // Valid JSON that serde_json reports as a syntax error (a number
            // where a choice of names is expected).
            let field = if path == "." { "body".to_string() } else { path };
            ApiError::validation(&field, "is not valid")
        } else {
            field_error(&path, &inner.to_string())
        })
    }

    pub fn path_param(&self, name: &str) -> ApiResult<&str> {
        self.path_params.get(name).map(String::as_str).ok_or_else(|| ApiError::validation(name, "is required"))
    }

    /// A path parameter that must be a ULID (400 otherwise).
    pub fn path_ulid(&self, name: &str) -> ApiResult<ulid::Ulid> {
        let raw = self.path_param(name)?;
        ulid::Ulid::from_string(raw).map_err(|_| ApiError::validation(name, "is not a valid id"))
    }

    /// The first value of a query parameter. An empty value (`?tags=`, as a
    /// form sends an empty field) is the same as leaving the parameter out;
    /// the document says so with `allowEmptyValue`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The query string as `T` (unknown parameters are the type's business;
    /// empty values are left out, as in [`Self::query_param`]).
    pub fn query_as<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let given: Vec<&(String, String)> = self.query.iter().filter(|(_, v)| !v.is_empty()).collect();
        let encoded = serde_urlencoded::to_string(&given).map_err(ApiError::internal)?;
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(encoded.as_bytes()));
        serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            field_error(&path, &err.into_inner().to_string())
        })
    }

    /// The signed-in caller (routes at level user and above always have one).
    pub fn user(&self) -> ApiResult<&Principal> {
        self.principal.as_ref().ok_or_else(|| ApiError::unauthorized("Sign in first"))
    }
}

/// The body with every float that is a whole number (`2.0`) as that whole
/// number; `None` when it has a key twice (which the typed read refuses).
fn whole_numbers(body: &[u8]) -> Option<serde_json::Value> {
    use serde::de::{self, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    struct Whole(Value);
    impl<'de> serde::Deserialize<'de> for Whole {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(WholeVisitor)
        }
    }
    struct WholeVisitor;
    impl<'de> Visitor<'de> for WholeVisitor {
        type Value = Whole;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Whole, E> {
            Ok(Whole(v.into()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Whole, E> {
            Ok(Whole(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Whole, E> {
            Ok(Whole(v.into()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Whole, E> {
            let whole = v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0; // 2^53: exact
            Ok(Whole(match (whole, v < 0.0) {
                (true, true) => (v as i64).into(),
                (true, false) => (v as u64).into(),
                (false, _) => v.into(),
            }))
        }
        fn visit_str<E>(self, v: &str) -> Result<Whole, E> {
            Ok(Whole(v.into()))
        }
        fn visit_unit<E>(self) -> Result<Whole, E> {
            Ok(Whole(Value::Null))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Whole, A::Error> {
            let mut items = Vec::new();
            while let Some(Whole(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(Whole(Value::Array(items)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Whole, A::Error> {
            let mut object = serde_json::Map::new();
            while let Some((key, Whole(value))) = map.next_entry::<String, Whole>()? {
                if object.insert(key, value).is_some() {
                    return Err(de::Error::custom("a key twice"));
                }
            }
            Ok(Whole(Value::Object(object)))
        }
    }
    serde_json::from_slice::<Whole>(body).ok().map(|w| w.0)
}

/// For a body field that can be left out, cleared or set
/// (`#[serde(default, deserialize_with = "whatif_shared::http::present")]` on
/// an `Option<Option<T>>`): absent is `None` (unchanged), `null` is
/// `Some(None)` (cleared), a value is `Some(Some(value))` (set).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// For a body field that holds an object (`#[serde(default, deserialize_with
/// = "whatif_shared::http::object")]`): only a JSON object is read. serde
/// would also read a struct from an array, its items taken as the fields in
/// order; the API takes objects only (the body itself is checked in
/// [`ApiRequest::json`]).
pub fn object<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

/// [`object`] for a field that may also be `null` (read as `None`).
pub fn optional_object<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct OrNull<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for OrNull<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            object(d).map(Some)
        }
    }
    d.deserialize_option(OrNull(std::marker::PhantomData))
}

struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
}

/// A serde error at `path` as a 400 in the API's own words: the field it is
/// about and what is wrong with it, never serde's text (which names Rust types
/// such as `u32` or `struct RegisterBody`).
fn field_error(path: &str, message: &str) -> ApiError {
    let (field, message) = describe_serde_error(path, message);
    ApiError::validation(&field, message)
}

/// The field and the plain message for serde's `message` at `path` (`.` is the body).
pub(crate) fn describe_serde_error(path: &str, message: &str) -> (String, String) {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let parent = if path == "." || path.is_empty() { None } else { Some(path) };
    let child = |name: &str| match parent {
        Some(p) => format!("{p}.{name}"),
        None => name.to_string(),
    };
    let at = || parent.unwrap_or("body").to_string();
    // A key of "" (which serde_path_to_error puts on the path): the object that has it.
    let owner = || parent.and_then(|p| p.strip_suffix('.')).or(parent).filter(|p| !p.is_empty()).unwrap_or("body");
    for prefix in ["unknown field ", "duplicate field "] {
        if quoted_after(message, prefix).is_some_and(|name| name.is_empty()) {
            return (owner().to_string(), "has a field with an empty name".into());
        }
    }
    if let Some(name) = quoted_after(message, "missing field ") {
        return (child(&name), "is required".into());
    }
    if let Some(name) = quoted_after(message, "unknown field ") {
        // serde_path_to_error already puts the unknown key on the path.
        let field = match parent {
            Some(p) if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
            _ => child(&name),
        };
        return (field, "is not a known field".into());
    }
    if message.starts_with("unknown variant ") {
        // serde lists them as "expected `a`", "`a` or `b`", "one of `a`, `b`, `c`".
        let allowed: Vec<&str> = message
            .split_once("expected ")
            .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let text = if allowed.is_empty() {
            "is not one of the allowed values".to_string()
        } else {
            format!("must be one of: {}", allowed.join(", "))
        };
        return (at(), text);
    }
    if let Some((_, expected)) = message.split_once(", expected ").or_else(|| message.split_once("expected "))
        && (message.starts_with("invalid type: ") || message.starts_with("invalid value: "))
    {
        return (at(), expected_in_words(expected.trim()));
    }
    if message.starts_with("invalid length ") {
        // serde reads a struct from an array too; the API only takes objects.
        if message.contains("expected struct ") {
            return (at(), "must be an object".into());
        }
        return (at(), "has the wrong number of items".into());
    }
    if message.starts_with("duplicate field ") {
        let name = quoted_after(message, "duplicate field ").unwrap_or_default();
        return (child(&name), "is given more than once".into());
    }
    // A handler's own message (from a custom deserializer) is kept when it is
    // plain words; anything that names Rust types is not.
    if names_rust_types(message) { (at(), "is not valid".into()) } else { (at(), message.to_string()) }
}

/// The text between the backticks after `prefix`.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name.to_string())
}

/// What serde says it expected, as the API says it.
fn expected_in_words(expected: &str) -> String {
    let integer = |lo: i128, hi: i128| format!("must be a whole number from {lo} to {hi}");
    match expected {
        "a string" | "a borrowed string" | "a character" | "a char" => "must be a string".into(),
        "a boolean" | "bool" => "must be true or false".into(),
        "u8" => integer(0, u8::MAX.into()),
        "u16" => integer(0, u16::MAX.into()),
        "u32" | "u64" | "usize" | "u128" => "must be a whole number of 0 or more".into(),
        "i8" => integer(i8::MIN.into(), i8::MAX.into()),
        "i16" => integer(i16::MIN.into(), i16::MAX.into()),
        "i32" | "i64" | "isize" | "i128" => "must be a whole number".into(),
        "f32" | "f64" => "must be a number".into(),
        "a sequence" | "a tuple" | "a set" => "must be an array".into(),
        "a map" | "map" => "must be an object".into(),
        "unit" | "null" => "must be null".into(),
        e if e.starts_with("struct ") || e.starts_with("tuple struct ") => "must be an object".into(),
        e if e.starts_with("a sequence") || e.starts_with("a tuple of size") || e.starts_with("an array") => {
            "must be an array".into()
        }
        e if e.contains("enum ") || e.starts_with("variant identifier") => "is not one of the allowed values".into(),
        e if names_rust_types(e) => "is not valid".into(),
        e => format!("must be {e}"),
    }
}

/// Whether `text` names a Rust type (what a client must never be shown).
pub fn names_rust_types(text: &str) -> bool {
    const TYPES: [&str; 14] =
        ["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64"];
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    words.iter().any(|w| TYPES.contains(w))
        || ["struct ", "enum ", "sequence", " map", "Option<", "Vec<", "::"].iter().any(|t| text.contains(t))
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
pub(crate) mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u8>,
    }

    /// A POST of `body` as `content_type` (the property tests use it too).
    pub(crate) fn with_body(content_type: &str, body: impl AsRef<[u8]>) -> ApiRequest {
        let mut req = ApiRequest::new(Method::POST, "/x");
        req.headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
        req.body = Bytes::copy_from_slice(body.as_ref());
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

    #[test]
    fn a_body_must_be_an_object() {
        for body in [r#"["a@b.c", 5]"#, "\"a@b.c\"", "5", "null", " true "] {
            let err = with_body("application/json", body).json::<Body>().unwrap_err();
            assert_eq!((err.status, err.code), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"), "{body}");
            assert_eq!(err.message, "The body must be a JSON object", "{body}");
        }
        let err = with_body("application/json", "[1,").json::<Body>().unwrap_err();
        assert_eq!(err.code, "INVALID_JSON");
    }

    /// Found by schemathesis: `2.0` is a whole number in JSON and in JSON
    /// Schema; a fraction is still refused where a whole number is expected.
    #[test]
    fn a_whole_number_may_be_written_as_a_float() {
        let body: Body = with_body("application/json", r#"{"email":"a@b.c","age":42.0}"#).json().unwrap();
        assert_eq!(body.age, Some(42));
        let err = with_body("application/json", r#"{"email":"a@b.c","age":42.5}"#).json::<Body>().unwrap_err();
        assert_eq!(err.errors[0].field, "age");
        let body: Body = with_body("application/json", r#"{"age": 7.0, "email": "a@b.c"}"#).json().unwrap();
        assert_eq!(body.age, Some(7));
        let err = with_body("application/json", r#"{"email":"a@b.c","age":1.0,"age":2}"#).json::<Body>().unwrap_err();
        assert_eq!(err.errors[0].field, "age", "a duplicate is still refused: {err:?}");
    }

    /// Found by the body property tests: a key with a byte that is not
    /// UTF-8 was reported as the field "?".
    #[test]
    fn a_body_that_is_not_utf8_is_not_json() {
        let mut req = with_body("application/json", "");
        req.body = Bytes::from_static(b"{\"\x80email\": \"a@b.c\"}");
        let err = req.json::<Body>().unwrap_err();
        assert_eq!((err.status, err.code), (StatusCode::BAD_REQUEST, "INVALID_JSON"), "{err:?}");
    }

    /// A body like the API's: every kind of field, unknown fields refused
    /// (the property tests use it too).
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    pub(crate) struct Nested {
        name: String,
        count: Option<u32>,
        small: Option<u8>,
        ratio: Option<f64>,
        flag: Option<bool>,
        tags: Option<Vec<String>>,
        #[serde(default, deserialize_with = "super::optional_object")]
        inner: Option<Inner>,
        kind: Option<Kind>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub(crate) struct Inner {
        depth: i64,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "lowercase")]
    pub(crate) enum Kind {
        Short,
        Long,
    }

    /// Found by the `request_body` fuzz target: a key of "" was reported as
    /// the field "" (": is not a known field").
    #[test]
    fn a_field_with_an_empty_name_is_named_by_its_object() {
        for (body, field) in [
            (r#"{"name": "x", "": 1}"#, "body"),
            (r#"{"": 1, "": 2}"#, "body"),
            (r#"{"name": "x", "inner": {"depth": 1, "": 2}}"#, "inner"),
        ] {
            let err = with_body("application/json", body).json::<Nested>().unwrap_err();
            assert_eq!(err.code, "VALIDATION_ERROR", "{body}: {err:?}");
            assert_eq!(err.errors[0].field, field, "{body}: {err:?}");
            assert_eq!(err.message, format!("{field}: has a field with an empty name"), "{body}");
        }
    }

    #[test]
    fn a_nested_object_is_read_from_an_object_or_null_only() {
        let read = |body: &str| with_body("application/json", body).json::<Nested>();
        assert_eq!(read(r#"{"name": "x", "inner": {"depth": 2}}"#).unwrap().inner.map(|i| i.depth), Some(2));
        assert!(read(r#"{"name": "x", "inner": null}"#).unwrap().inner.is_none());
        assert!(read(r#"{"name": "x"}"#).unwrap().inner.is_none());
        assert_eq!(read(r#"{"name": "x", "inner": [2]}"#).unwrap_err().errors[0].field, "inner");
    }

    #[test]
    fn field_errors_speak_the_api_not_rust() {
        let cases = [
            (r#"{"name": 5}"#, "name", "must be a string"),
            (r#"{}"#, "name", "is required"),
            (r#"{"name": "x", "role": 1}"#, "role", "is not a known field"),
            (r#"{"name": "x", "count": "3"}"#, "count", "must be a whole number"),
            (r#"{"name": "x", "count": -1}"#, "count", "must be a whole number"),
            (r#"{"name": "x", "small": 300}"#, "small", "must be a whole number from 0 to 255"),
            (r#"{"name": "x", "ratio": "a"}"#, "ratio", "must be a number"),
            (r#"{"name": "x", "flag": 1}"#, "flag", "must be true or false"),
            (r#"{"name": "x", "tags": "a"}"#, "tags", "must be an array"),
            (r#"{"name": "x", "tags": [1]}"#, "tags[0]", "must be a string"),
            (r#"{"name": "x", "inner": []}"#, "inner", "must be an object"),
            // An array with an item for each field is not read as the object.
            (r#"{"name": "x", "inner": [1]}"#, "inner", "must be an object"),
            (r#"{"name": "x", "inner": {}}"#, "inner.depth", "is required"),
            (r#"{"name": "x", "inner": {"depth": 1, "x": 2}}"#, "inner.x", "is not a known field"),
            (r#"{"name": "x", "kind": "medium"}"#, "kind", "must be one of: short, long"),
            (r#"{"name": "x", "kind": 3}"#, "kind", "is not valid"),
        ];
        for (body, field, words) in cases {
            let err = with_body("application/json", body).json::<Nested>().unwrap_err();
            assert_eq!(err.code, "VALIDATION_ERROR", "{body}: {err:?}");
            assert_eq!(err.errors[0].field, field, "{body}: {err:?}");
            assert!(err.errors[0].message.starts_with(words), "{body}: {err:?}");
            assert!(err.message.contains(field), "{body}: {err:?}");
            assert!(!names_rust_types(&err.message), "{body}: {err:?}");
        }
    }
}
