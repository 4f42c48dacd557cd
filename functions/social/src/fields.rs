//! The schemas of the bodies' texts in the OpenAPI document: what the domain's
//! checks (`whatif_shared::social::posts::{title, content, tags}`,
//! `comments::content`) take, as near as JSON Schema says it. Lengths are
//! counted after trimming; the pattern asks for one character that is not a
//! space.

use schemars::{Schema, SchemaGenerator, json_schema};

/// No control characters; at least one that is not a space.
const ONE_LINE: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// The same, line breaks allowed.
const LINES: &str = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$";

pub fn title(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "minLength": 1, "maxLength": 200, "pattern": ONE_LINE,
        "description": "1–200 characters (trimmed), one line, not only spaces"
    })
}

pub fn post_content(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "minLength": 1, "maxLength": 10000, "pattern": LINES,
        "description": "1–10,000 characters (trimmed), not only spaces; line breaks allowed"
    })
}

pub fn comment_content(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "minLength": 1, "maxLength": 1000, "pattern": LINES,
        "description": "1–1,000 characters (trimmed), not only spaces; line breaks allowed"
    })
}

pub fn tags(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array", "maxItems": 10,
        "items": {"type": "string", "minLength": 1, "maxLength": 30, "pattern": "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^\\s,\\u0000-\\u001f\\u007f-\\u009f\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff][^,\\u0000-\\u001f\\u007f-\\u009f]*$"},
        "description": "At most 10, each 1–30 characters without commas, not accents alone; kept folded (lower case, no accents) and trimmed, each once"
    })
}

/// The same schemas for an edit, where `null` (like leaving the field out)
/// keeps what the post has.
fn or_null(mut schema: Schema) -> Schema {
    if let Some(kind) = schema.get("type").and_then(|t| t.as_str()).map(str::to_string) {
        schema.insert("type".into(), serde_json::json!([kind, "null"]));
    }
    schema
}

pub fn optional_title(g: &mut SchemaGenerator) -> Schema {
    or_null(title(g))
}

pub fn optional_post_content(g: &mut SchemaGenerator) -> Schema {
    or_null(post_content(g))
}

pub fn optional_tags(g: &mut SchemaGenerator) -> Schema {
    or_null(tags(g))
}
