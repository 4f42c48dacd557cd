//! `events/`: one real event per function, fed to its handler through the
//! pipeline exactly as Lambda would. None may answer 5xx or panic.

use std::path::PathBuf;

use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::pipeline::dispatch;
use whatif_tests::{body_json, lambda_request};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

#[tokio::test]
async fn every_function_has_an_event_that_its_handler_answers() {
    let dir = tempfile::tempdir().unwrap();
    // A function on the embedded backend, as `cargo lambda watch` runs it: its
    // first start makes the signing keys, so sign-up answers without them set up.
    let ctx = AppContext::connect(Config::embedded(dir.path().to_path_buf())).await.unwrap();
    for route in whatif_local::routes() {
        let path = events_dir().join(format!("{}.json", route.function));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
        let event: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["routeKey"], route.route_key().as_str(), "{} is an event for its route", path.display());
        let response = dispatch(&ctx, route, lambda_request(event)).await;
        assert!(
            !response.status().is_server_error(),
            "{}: {} {}",
            route.function,
            response.status(),
            body_json(&response)
        );
        assert!(response.headers().contains_key("x-request-id"));
    }
}

#[test]
fn every_event_belongs_to_a_function() {
    let functions: Vec<&str> = whatif_local::routes().iter().map(|r| r.function).collect();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let function = name.trim_end_matches(".json");
        let worker = whatif_local::template::WORKERS.iter().any(|w| w.function == function);
        assert!(functions.contains(&function) || worker, "events/{name} matches no function");
    }
}
