//! Property tests of the parsers of outside input that live here: request
//! bodies (`ApiRequest::json`), cursors and page parameters. The fuzz targets
//! in `fuzz/` check the same promises with libFuzzer (docs/testing.md).

use http::{Method, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::tests::{Nested as Body, with_body};
use crate::http::{ApiRequest, names_rust_types};
use crate::pagination::{MAX_LIMIT, PageRequest, decode_cursor, encode_cursor};
use crate::ports::table::Item;

/// Enough cases to find the edges, few enough that the suite stays quick.
const CASES: u32 = 256;

/// The fields of `Body` (`http::tests::Nested`).
const FIELDS: [&str; 8] = ["name", "count", "small", "ratio", "flag", "tags", "inner", "kind"];

fn query(pairs: &[(&str, &str)]) -> ApiRequest {
    let mut req = ApiRequest::new(Method::GET, "/x");
    req.query = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    req
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["short", "long", "medium", ""]).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of `Body`'s fields (any values) and maybe a field it
/// does not know (named so that it cannot spell a Rust type).
fn body_object() -> impl Strategy<Value = Map<String, Value>> {
    let known = prop::collection::vec((prop::sample::select(FIELDS.to_vec()), json_value()), 0..6);
    let unknown = prop::option::weighted(0.2, ("x[a-z]{0,6}", json_value()));
    (known, unknown).prop_map(|(known, unknown)| {
        let mut map: Map<String, Value> = known.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Some((k, v)) = unknown {
            map.insert(k, v);
        }
        map
    })
}

/// Bytes as clients send them: random, or JSON, whole, cut short, or with a
/// byte changed.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (body_object(), any::<Index>(), any::<u8>(), 0..3u8).prop_map(|(object, at, byte, how)| {
            let mut bytes = Value::Object(object).to_string().into_bytes();
            let at = at.index(bytes.len() + 1);
            match how {
                0 => bytes,
                1 => bytes[..at].to_vec(),
                _ => {
                    bytes.insert(at, byte);
                    bytes
                }
            }
        }),
    ]
}

/// What every refusal of a body must be: a 400 with a field for a
/// validation error, and no Rust type names in what the client reads (a
/// field name is the client's own text and may be anything).
fn assert_in_api_words(err: &ApiError) -> Result<(), TestCaseError> {
    prop_assert_eq!(err.status, StatusCode::BAD_REQUEST, "{:?}", err);
    prop_assert!(matches!(err.code, "INVALID_JSON" | "VALIDATION_ERROR"), "{:?}", err);
    if err.code == "VALIDATION_ERROR" {
        prop_assert!(!err.errors.is_empty(), "{:?}", err);
    }
    let mut message = err.message.as_str();
    for field in &err.errors {
        prop_assert!(!field.field.is_empty() && !field.field.ends_with('.') && !field.message.is_empty(), "{:?}", err);
        prop_assert!(!names_rust_types(&field.message), "{:?}", err);
        message = message.strip_prefix(&format!("{}: ", field.field)).unwrap_or(message);
    }
    prop_assert!(!names_rust_types(message), "{:?}", err);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_body_is_the_type_or_a_400_in_the_apis_words(body in body_bytes()) {
        match with_body("application/json", &body).json::<Body>() {
            Ok(_) => prop_assert!(matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(_)))),
            Err(err) => assert_in_api_words(&err)?,
        }
    }

    #[test]
    fn an_object_is_taken_exactly_when_it_fits_and_a_refusal_names_its_field(object in body_object()) {
        let body = Value::Object(object.clone()).to_string();
        let fits = serde_json::from_value::<Body>(Value::Object(object.clone())).is_ok();
        match with_body("application/json", body.as_bytes()).json::<Body>() {
            Ok(_) => prop_assert!(fits, "{body}"),
            Err(err) => {
                prop_assert!(!fits, "{body}: {err:?}");
                prop_assert_eq!(err.code, "VALIDATION_ERROR", "{}", body);
                assert_in_api_words(&err)?;
                // The field is one the body has (or the required `name`), or a path into one.
                let field = &err.errors[0].field;
                let top = field.split(['.', '[']).next().unwrap_or_default();
                prop_assert!(object.contains_key(top) || top == "name", "{body}: {err:?}");
                prop_assert!(err.message.contains(field.as_str()), "{body}: {err:?}");
            }
        }
    }

    #[test]
    fn another_content_type_is_a_415_whatever_the_body(
        mime in "[a-z]{1,11}/[a-z+.-]{1,12}",
        body in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        prop_assume!(!mime.eq_ignore_ascii_case("application/json"));
        let err = with_body(&mime, &body).json::<Body>().unwrap_err();
        prop_assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn json_is_json_in_any_case_and_with_parameters(upper in prop::collection::vec(any::<bool>(), 16), charset in "[a-z0-9-]{0,8}") {
        let mime: String = "application/json".chars().zip(upper).map(|(c, up)| if up { c.to_ascii_uppercase() } else { c }).collect();
        let content_type = if charset.is_empty() { mime } else { format!("{mime}; charset={charset}") };
        prop_assert!(with_body(&content_type, br#"{"name": "x"}"#).json::<Body>().is_ok(), "{}", content_type);
    }

    #[test]
    fn a_cursor_the_api_encodes_decodes_to_the_same_item(
        item in prop::collection::btree_map(
            "[A-Za-z0-9_#]{1,12}",
            prop_oneof![".{0,40}".prop_map(Value::from), any::<i64>().prop_map(Value::from), any::<bool>().prop_map(Value::from)],
            1..6,
        ),
    ) {
        let item: Item = item.into_iter().collect();
        let cursor = encode_cursor(&item);
        prop_assert!(cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{}", cursor);
        prop_assert_eq!(decode_cursor(&cursor), Ok(item.clone()));
        let page = PageRequest::from_request(&query(&[("cursor", &cursor)])).unwrap();
        prop_assert_eq!(page.cursor, Some(item));
    }

    #[test]
    fn any_other_cursor_is_a_400_naming_the_cursor(
        raw in prop_oneof![
            ".{1,40}".prop_filter("not URL-safe base64", |s: &String| s.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))),
            prop::collection::vec(any::<u8>(), 0..48)
                .prop_filter("not a JSON object", |b| serde_json::from_slice::<Item>(b).is_err())
                .prop_map(|b| {
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
                }),
        ],
    ) {
        prop_assume!(!raw.is_empty());
        let err = decode_cursor(&raw).unwrap_err();
        prop_assert_eq!((err.status, err.errors[0].field.as_str()), (StatusCode::BAD_REQUEST, "cursor"));
        let err = PageRequest::from_request(&query(&[("cursor", &raw)])).unwrap_err();
        prop_assert_eq!(err.errors[0].field.as_str(), "cursor");
    }

    #[test]
    fn a_cursor_longer_than_any_the_api_gives_is_refused(len in 400usize..1000) {
        let mut item = Item::new();
        item.insert("pk".into(), Value::String("x".repeat(len * 4)));
        let cursor = encode_cursor(&item);
        prop_assert!(cursor.len() > 2048);
        let err = decode_cursor(&cursor).unwrap_err();
        prop_assert_eq!(err.errors[0].field.as_str(), "cursor");
    }

    #[test]
    fn limit_and_page_take_exactly_their_ranges(limit in 0u64..300, page in prop_oneof![0u64..10, 999_990u64..1_000_010]) {
        let result = PageRequest::from_request(&query(&[("limit", &limit.to_string()), ("page", &page.to_string())]));
        let limit_ok = (1..=u64::from(MAX_LIMIT)).contains(&limit);
        let page_ok = (1..=1_000_000).contains(&page);
        match result {
            Ok(p) => {
                prop_assert!(limit_ok && page_ok);
                prop_assert_eq!((u64::from(p.limit), u64::from(p.page)), (limit, page));
            }
            Err(err) => {
                prop_assert!(!(limit_ok && page_ok));
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
                let field = err.errors[0].field.as_str();
                prop_assert!((field == "page" && !page_ok) || (field == "limit" && !limit_ok), "{err:?}");
            }
        }
    }

    #[test]
    fn any_page_parameters_are_a_page_or_a_400(limit in ".{0,8}", page in ".{0,8}") {
        match PageRequest::from_request(&query(&[("limit", &limit), ("page", &page)])) {
            Ok(p) => {
                prop_assert!((1..=MAX_LIMIT).contains(&p.limit) && p.page >= 1);
                // What was taken is that number (or the default for nothing).
                prop_assert!(limit.is_empty() || limit.parse::<u32>() == Ok(p.limit), "{limit:?}");
                prop_assert!(page.is_empty() || page.parse::<u32>() == Ok(p.page), "{page:?}");
            }
            Err(err) => {
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
                prop_assert!(["page", "limit"].contains(&err.errors[0].field.as_str()));
                assert_in_api_words(&err)?;
            }
        }
    }
}
