//! What each route costs: the authorization matrix (every route, called by
//! an anonymous caller, the owner of what it names, another user, a
//! moderator and an admin) run on the embedded backend, each answer's
//! `X-Whatif-Cost` in one table. `--write` puts the table in
//! docs/performance.md, where the suite checks every count against it.

use whatif_shared::metering::Cost;
use whatif_tests::matrix::{COSTS_BEGIN, Caller, Cell, World, cost_table, with_cost_table};

use crate::{Options, Row};

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    println!("== costs: every row of the authorization matrix, as each caller (embedded backend)");
    let world = World::new().await;
    let cells = world.run().await;
    let table = cost_table(&cells);
    println!("\n{table}");
    let catalog = whatif_local::routes();
    let mut rows = Vec::new();
    // The read routes: the owner and anonymous callers wait for one table round trip at most.
    let reads: Vec<&Cell> = cells
        .iter()
        .filter(|c| matches!(c.caller, Caller::Owner | Caller::Anonymous))
        .filter(|c| catalog.iter().any(|r| r.function == c.row.function && r.checks_alongside()))
        .collect();
    let over: Vec<String> = reads
        .iter()
        .filter_map(|c| {
            let trips = c.cost().map_or(u32::MAX, |cost: Cost| cost.round_trips);
            (trips > 1).then(|| format!("{} as {} ({trips})", c.row.label(), c.caller.name()))
        })
        .collect();
    println!(
        "read routes, owner and anonymous: {} of {} cells wait for at most 1 table round trip",
        reads.len() - over.len(),
        reads.len()
    );
    for cell in &over {
        println!("   more: {cell}");
    }
    rows.push(Row::new(
        "costs: read routes, owner and anonymous",
        format!("{} of {} cells at ≤ 1 table round trip", reads.len() - over.len(), reads.len()),
        "≤ 1 table round trip",
        Some(over.is_empty()),
    ));
    let total: u32 = cells.iter().filter_map(Cell::cost).map(|c| c.table_calls()).sum();
    rows.push(Row::new(
        "costs: table calls of the whole matrix",
        format!("{total} in {} cells", cells.len()),
        "",
        None,
    ));
    if options.write {
        let path = options.workspace.join("docs/performance.md");
        let doc = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let updated = with_cost_table(&doc, &table)
            .ok_or_else(|| format!("{} has no table of costs (a line {COSTS_BEGIN:?} and its end)", path.display()))?;
        std::fs::write(&path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote the table into {}", path.display());
    }
    Ok(rows)
}
