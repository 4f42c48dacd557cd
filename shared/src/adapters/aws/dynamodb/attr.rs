//! JSON ↔ DynamoDB attribute values.
//!
//! Strings → S, numbers → N, booleans → BOOL, null → NULL, arrays → L,
//! objects → M. Numbers come back as i64 (or u64) when integral, else f64:
//! DynamoDB normalises `2.0` to `2`, so a float with no fraction returns as
//! an integer. Sets and binaries (never written by this adapter) are read as
//! arrays and base64 strings.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Number, Value};

use crate::ports::table::{Item, Key, PK, SK, TTL};

pub type Attrs = HashMap<String, AttributeValue>;

pub fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_attr).collect()),
        Value::Object(map) => AttributeValue::M(to_attrs(map)),
    }
}

pub fn from_attr(attr: &AttributeValue) -> Value {
    match attr {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(values) => Value::Array(values.iter().map(from_attr).collect()),
        AttributeValue::M(map) => Value::Object(from_attrs(map)),
        AttributeValue::Ss(values) => Value::Array(values.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(values) => Value::Array(values.iter().map(|n| number(n)).collect()),
        AttributeValue::B(blob) => Value::String(STANDARD.encode(blob.as_ref())),
        AttributeValue::Bs(blobs) => {
            Value::Array(blobs.iter().map(|b| Value::String(STANDARD.encode(b.as_ref()))).collect())
        }
        _ => Value::Null,
    }
}

pub fn to_attrs(item: &Item) -> Attrs {
    item.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()
}

pub fn from_attrs(attrs: &Attrs) -> Item {
    attrs.iter().map(|(k, v)| (k.clone(), from_attr(v))).collect()
}

/// The primary key attributes of `key`.
pub fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Whether an item is still alive at `now` (epoch seconds): no numeric `ttl`, or one in the future.
pub fn is_live(item: &Item, now: i64) -> bool {
    match item.get(TTL).and_then(Value::as_f64) {
        Some(ttl) => ttl > now as f64,
        None => true,
    }
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(u) = n.parse::<u64>() {
        return Value::from(u);
    }
    match n.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(f) => Value::Number(f),
        // DynamoDB numbers always parse as f64; keep the text rather than lose it.
        None => Value::String(n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_round_trips() {
        let value = json!({"s": "x", "n": -3, "f": 1.5, "b": true, "z": null, "l": [1, "a"], "m": {"k": [ {} ]}});
        assert_eq!(from_attr(&to_attr(&value)), value);
    }

    #[test]
    fn numbers_come_back_integral_when_they_can() {
        assert_eq!(number("2"), json!(2));
        assert_eq!(number("18446744073709551615"), json!(u64::MAX));
        assert_eq!(number("1E+2"), json!(100.0));
        assert_eq!(number("0.25"), json!(0.25));
    }

    #[test]
    fn ttl_in_the_past_or_now_is_dead() {
        let item = |ttl: Value| Item::from_iter([(TTL.to_string(), ttl)]);
        assert!(!is_live(&item(json!(10)), 10));
        assert!(is_live(&item(json!(11)), 10));
        assert!(is_live(&item(json!("5")), 10), "a non-numeric ttl is ignored");
        assert!(is_live(&Item::new(), 10));
    }
}
