//! The fields an owner may change, as types that only hold valid values.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 30;
pub const MAX_TITLE_CHARS: usize = 200;

/// A title: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() || text.chars().count() > MAX_TITLE_CHARS {
            return Err(format!("must be 1 to {MAX_TITLE_CHARS} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Title(text.to_string()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for Title {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Title::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A tag: 1–30 letters, digits, spaces, `-` or `_` after trimming (inner
/// spaces collapsed), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || text.chars().count() > MAX_TAG_CHARS {
            return Err(format!("a tag must be 1 to {MAX_TAG_CHARS} characters"));
        }
        if !text.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_')) {
            return Err(format!("tag {text:?} may only hold letters, digits, spaces, '-' and '_'"));
        }
        Ok(Tag(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Tag::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Tags as a set: duplicates (without regard to case) dropped, at most 20.
pub fn tag_set(tags: impl IntoIterator<Item = String>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        if !out.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(format!("a scenario holds at most {MAX_TAGS} tags"));
    }
    Ok(out)
}

/// A rating: 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(u8);

impl Rating {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Rating {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if (1..=5).contains(&n) {
            Ok(Rating(n as u8))
        } else {
            Err(serde::de::Error::custom("must be a whole number from 1 to 5 (null clears it)"))
        }
    }
}

// The schemas of the OpenAPI document: what `parse` takes, as near as JSON
// Schema says it (a tag's letters are of any script: `\p{L}`, which not every
// regular-expression engine knows, so its characters are in the description).

impl JsonSchema for Title {
    fn schema_name() -> Cow<'static, str> {
        "Title".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TITLE_CHARS,
            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$",
            "description": "1–200 characters (trimmed), not only spaces, no control characters"
        })
    }
}

impl JsonSchema for Tag {
    fn schema_name() -> Cow<'static, str> {
        "Tag".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TAG_CHARS,
            "description": "1–30 letters (any script), digits, spaces, '-' or '_'"
        })
    }
}

impl JsonSchema for Rating {
    fn schema_name() -> Cow<'static, str> {
        "Rating".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1, "maximum": 5})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_values_parse() {
        assert_eq!(Title::parse("  A title ").unwrap().into_string(), "A title");
        assert!(Title::parse(" ").is_err() && Title::parse("a\nb").is_err() && Title::parse(&"x".repeat(201)).is_err());
        assert_eq!(Tag::parse("  sci   fi ").unwrap().as_str(), "sci fi");
        assert_eq!(Tag::parse("lịch-sử").unwrap().as_str(), "lịch-sử");
        assert!(Tag::parse("<b>").is_err() && Tag::parse("").is_err() && Tag::parse(&"t".repeat(31)).is_err());
        assert_eq!(tag_set(["A".to_string(), "a".into(), "b".into()]).unwrap(), ["A", "b"]);
        assert!(tag_set((0..21).map(|i| i.to_string())).is_err());
        assert!(serde_json::from_str::<Rating>("6").is_err() && serde_json::from_str::<Rating>("0").is_err());
    }
}
