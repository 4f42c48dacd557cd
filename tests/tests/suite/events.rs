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
    let functions = whatif_app::catalog().function_names();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let function = name.trim_end_matches(".json");
        assert!(functions.contains(&function), "events/{name} matches no function");
    }
    for function in functions {
        assert!(events_dir().join(format!("{function}.json")).is_file(), "events/{function}.json is missing");
    }
}

/// Every function runs the same binary: an event for another route (a
/// miswired integration) is a server error, and that route's handler never runs.
#[tokio::test]
async fn an_event_for_another_route_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = AppContext::connect(Config::embedded(dir.path().to_path_buf())).await.unwrap();
    let text = std::fs::read_to_string(events_dir().join("auth-register.json")).unwrap();
    let event: serde_json::Value = serde_json::from_str(&text).unwrap();
    let response = dispatch(&ctx, &whatif_platform::HEALTH, lambda_request(event.clone())).await;
    assert_eq!(response.status(), 500, "{}", body_json(&response));
    assert_eq!(body_json(&response)["code"], "INTERNAL_ERROR");
    // Nobody was registered by it: the right function still takes the email.
    let response = dispatch(&ctx, &whatif_auth::REGISTER, lambda_request(event)).await;
    assert_eq!(response.status(), 201, "{}", body_json(&response));
}

/// The one binary picks its row from the handler name, and refuses to start
/// on a name that no service has.
#[test]
fn the_lambda_binary_serves_the_function_its_handler_names() {
    use whatif_app::lambda::{function_name, resolve};
    use whatif_shared::service::Function;
    let catalog = whatif_app::catalog();
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |var: &str| pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string())
    };
    assert_eq!(function_name(env(&[("_HANDLER", "history-get")])).unwrap(), "history-get");
    assert_eq!(
        function_name(env(&[("_HANDLER", "history-get"), ("WHATIF_FUNCTION", "health")])).unwrap(),
        "health",
        "the explicit variable wins"
    );
    assert!(function_name(env(&[])).unwrap_err().contains("_HANDLER"));
    assert!(matches!(resolve(&catalog, "history-get"), Ok(Function::Route(r)) if r.path == "/api/scenarios/{id}"));
    assert!(matches!(resolve(&catalog, "jobs-worker"), Ok(Function::Worker(w)) if w.function == "jobs-worker"));
    assert!(matches!(resolve(&catalog, "history-purge"), Ok(Function::Worker(_))));
    let Err(refused) = resolve(&catalog, "bootstrap") else { panic!("bootstrap is no function") };
    assert!(refused.contains("\"bootstrap\"") && refused.contains("history-get"), "{refused}");
}
