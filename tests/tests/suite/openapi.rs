//! The committed OpenAPI document is the one the route table makes, and it
//! names every route and nothing else.

use std::collections::BTreeSet;

#[test]
fn committed_document_matches_the_route_table() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json")).unwrap();
    assert!(
        committed == whatif_local::openapi_document(),
        "docs/openapi.json is stale: run `cargo run -p whatif-local -- openapi --write`"
    );
}

#[test]
fn document_and_table_name_the_same_operations() {
    let doc: serde_json::Value = serde_json::from_str(&whatif_local::openapi_document()).unwrap();
    let mut in_doc = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            in_doc.insert((method.to_ascii_uppercase(), path.clone(), op["operationId"].as_str().unwrap().to_string()));
        }
    }
    let in_table: BTreeSet<_> = whatif_local::routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string()))
        .collect();
    assert_eq!(in_doc, in_table);
    let functions: Vec<_> = whatif_local::routes().iter().map(|r| r.function).collect();
    let unique: BTreeSet<_> = functions.iter().collect();
    assert_eq!(unique.len(), functions.len(), "function names are unique");
}
