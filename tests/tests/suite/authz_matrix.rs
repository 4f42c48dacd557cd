//! Who may call what: the authorization matrix (`whatif_tests::matrix`)
//! checked against the route table, then run over HTTP, every answer
//! checked against what the matrix says and its cost against the table
//! committed in `docs/performance.md`.

use std::time::Instant;

use serde_json::Value;
use whatif_shared::auth::AuthLevel;
use whatif_shared::metering::Cost;
use whatif_tests::api::Answer;
use whatif_tests::matrix::*;

// ---------------------------------------------------------------------------
// The checks that need no server.

#[test]
fn every_route_of_the_table_has_a_row() {
    let catalog = whatif_app::catalog();
    let mut problems = Vec::new();
    for route in catalog.routes() {
        if !MATRIX.iter().any(|row| row.function == route.function) {
            problems.push(format!(
                "{} ({} {}, auth {}) has no row: add one to MATRIX (tests/tests/suite/authz_matrix.rs) \
                 saying what each caller gets",
                route.function,
                route.method,
                route.path,
                route.auth.name()
            ));
        }
    }
    for row in MATRIX {
        match catalog.routes().find(|route| route.function == row.function) {
            None => problems
                .push(format!("{}: MATRIX has a row for it, but the route table has no such function", row.label())),
            Some(route) => {
                if route.method.as_str() != row.method() || !same_route(route.path, row.path()) {
                    problems.push(format!(
                        "{}: the row calls {} {}, but the route is {} {}",
                        row.label(),
                        row.method(),
                        row.path(),
                        route.method,
                        route.path
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "the authorization matrix and the route table disagree:\n  {}", problems.join("\n  "));
}

/// Whether `request` (with `$name`s, maybe a query) is a path of the route `template` (with `{param}`s).
fn same_route(template: &str, request: &str) -> bool {
    let path = request.split('?').next().unwrap_or_default();
    let (want, got): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    want.len() == got.len()
        && want.iter().zip(&got).all(|(w, g)| w == g || (w.starts_with('{') && w.ends_with('}') && g.starts_with('$')))
}

/// Each row is told apart by its function and request (and case): the
/// table of costs in docs/performance.md names its cells by them.
#[test]
fn rows_are_told_apart() {
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<String> = MATRIX.iter().map(Row::label).filter(|label| !seen.insert(label.clone())).collect();
    assert!(twice.is_empty(), "rows with the same function, request and case (give each a .case(...)): {twice:?}");
}

#[test]
fn rows_follow_their_route_s_auth_level() {
    let catalog = whatif_app::catalog();
    let mut problems = Vec::new();
    for row in MATRIX {
        let Some(route) = catalog.routes().find(|route| route.function == row.function) else { continue };
        let expect = |caller: Caller| row.expect[CALLERS.iter().position(|c| *c == caller).unwrap_or_default()];
        let mut rule = |holds: bool, what: &str| {
            if !holds {
                problems.push(format!("{} (auth {}): {what}", row.label(), route.auth.name()));
            }
        };
        match route.auth {
            AuthLevel::None => {
                rule(row.expect.iter().all(|e| *e == row.expect[0]), "the token is ignored: every caller gets the same")
            }
            AuthLevel::Optional => {}
            AuthLevel::User | AuthLevel::Moderator | AuthLevel::Admin => {
                rule(expect(Caller::Anonymous) == E401, "anonymous must get 401")
            }
        }
        for caller in CALLERS {
            let (Some(role), Some(min)) = (caller.role(), route.auth.min_role()) else { continue };
            if role < min {
                rule(expect(caller) == E403, &format!("a {} is below the level: 403", caller.name()));
            }
        }
        for caller in CALLERS.into_iter().filter(|c| *c != Caller::Anonymous) {
            rule(expect(caller) != E401, &format!("a signed-in {} never gets 401", caller.name()));
        }
    }
    assert!(problems.is_empty(), "rows that contradict their route's auth level:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------
// The matrix over HTTP.

#[tokio::test]
async fn every_caller_gets_what_the_matrix_says_on_every_route() {
    let started = Instant::now();
    let world = World::new().await;
    let ready = started.elapsed();
    let cells = world.run().await;
    let mut mismatches = Vec::new();
    for Cell { row, caller, expect, request, answer, .. } in &cells {
        if let Some(got) = outcome(answer, *expect) {
            mismatches.push(format!(
                "{} as {}: expected {expect}, got {got}\n      {request}\n      {}",
                row.label(),
                caller.name(),
                excerpt(answer)
            ));
        }
        if *caller != Caller::Owner {
            for secret in world.secrets(row) {
                if String::from_utf8_lossy(&answer.bytes).to_lowercase().contains(&secret.to_lowercase()) {
                    mismatches.push(format!(
                        "{} as {}: the answer holds the owner's {secret:?}\n      {request}\n      {}",
                        row.label(),
                        caller.name(),
                        excerpt(answer)
                    ));
                }
            }
        }
    }
    println!(
        "authorization matrix: {} rows, {} cells in {:.1} s (setup {:.1} s)",
        MATRIX.len(),
        cells.len(),
        started.elapsed().as_secs_f64(),
        ready.as_secs_f64()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cells of the authorization matrix differ:\n  {}",
        mismatches.len(),
        cells.len(),
        mismatches.join("\n  ")
    );
    costs_are_the_committed_ones(&cells);
}

/// Each cell's calls to the table, the blob store, the queue and the secret
/// store are those of the table committed in docs/performance.md, and its
/// table round trips within one of the table's: counts are deterministic, so
/// one that grows is a change someone should see, and one that shrinks is a
/// table to update.
fn costs_are_the_committed_ones(cells: &[Cell]) {
    let committed = read_cost_table(include_str!("../../../docs/performance.md"));
    let mut differences = Vec::new();
    for cell in cells {
        // Its topic is drawn at random, and whether that topic's scenario
        // was generated before (by another cell) changes what it writes.
        if cell.row.function == "generation-random" {
            continue;
        }
        let (function, request) = cost_key(cell.row);
        let Some(cost) = cell.cost() else {
            differences.push(format!("{} as {}: no X-Whatif-Cost in the answer", cell.row.label(), cell.caller.name()));
            continue;
        };
        match committed.get(&(function, request, cell.caller)) {
            None => differences.push(format!(
                "{} as {}: costs {}, and the table has no such cell",
                cell.row.label(),
                cell.caller.name(),
                cost.short()
            )),
            // A chain can come out one longer when a write the embedded store
            // commits on another thread ends before a call beside it starts:
            // the calls must be the table's, the round trips within one of it.
            Some(was)
                if Cost { round_trips: was.round_trips, ..cost } == *was
                    && cost.round_trips.abs_diff(was.round_trips) <= 1 =>
            {
                if cost.round_trips != was.round_trips {
                    println!(
                        "{} as {}: {} round trips, the table says {} (within one)",
                        cell.row.label(),
                        cell.caller.name(),
                        cost.round_trips,
                        was.round_trips
                    );
                }
            }
            Some(was) => differences.push(format!(
                "{} as {}: costs {} ({}), the table says {}",
                cell.row.label(),
                cell.caller.name(),
                cost.short(),
                if cost.within(was) { "less: update the table" } else { "MORE" },
                was.short()
            )),
        }
    }
    assert!(
        differences.is_empty(),
        "{} cells cost other than the table in docs/performance.md says (after a change that \
         means it, rewrite the table: cargo run --release -p whatif-bench -- costs --write):\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
}

/// `None` when `answer` is what `expect` says; else what it was instead.
fn outcome(answer: &Answer, expect: Expect) -> Option<String> {
    let ok = (200..300).contains(&answer.status);
    let fits = match expect {
        Expect::Ok => ok,
        Expect::Status(status) => answer.status == status,
        Expect::OkEmpty(pointer) => {
            ok && answer.body.pointer(pointer).and_then(Value::as_array).is_some_and(Vec::is_empty)
        }
    };
    match (fits, expect) {
        (true, _) => None,
        (false, Expect::OkEmpty(pointer)) if ok => {
            Some(format!("{} with {pointer} = {}", answer.status, answer.body.pointer(pointer).unwrap_or(&Value::Null)))
        }
        (false, _) => Some(answer.status.to_string()),
    }
}

/// The start of an answer's body, for the report.
fn excerpt(answer: &Answer) -> String {
    let text = String::from_utf8_lossy(&answer.bytes);
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() { format!("{cut}...") } else { cut.to_string() }
}
