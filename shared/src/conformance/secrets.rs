//! The `SecretStore` suite. Values may be cached by the store, so the suite
//! checks that a put is visible to the same store at once.

use std::sync::Arc;

use super::{assert_invalid, ok, run_id};
use crate::ports::SecretStore;

/// Runs every secret check; panics on the first broken behaviour.
pub async fn secret_store(secrets: Arc<dyn SecretStore>) {
    let name = format!("conformance-{}", run_id());
    let s = secrets.as_ref();
    assert_eq!(ok(s.get(&name).await, "get a missing secret"), None, "a missing secret reads as None");

    let first = r#"{"keys":[{"kid":"k1","secret":"Bí mật ✓\nline 2"}]}"#;
    ok(s.put(&name, first).await, "put creates a secret");
    assert_eq!(ok(s.get(&name).await, "get after put").as_deref(), Some(first), "get returns the stored value");

    let second = r#"{"keys":[{"kid":"k2"}]}"#;
    ok(s.put(&name, second).await, "put replaces a secret");
    assert_eq!(ok(s.get(&name).await, "get after overwrite").as_deref(), Some(second), "put overwrites the value");

    let other = format!("{name}.b_c-d");
    ok(s.put(&other, "v").await, "put a second secret");
    assert_eq!(ok(s.get(&other).await, "get the second").as_deref(), Some("v"), "secrets are independent");
    assert_eq!(ok(s.get(&name).await, "get the first").as_deref(), Some(second), "secrets are independent");

    for bad in ["", "../x", "a/b", ".hidden", "sp ace", "é"] {
        assert_invalid(s.get(bad).await, &format!("get {bad:?}"));
        assert_invalid(s.put(bad, "v").await, &format!("put {bad:?}"));
    }
}
