//! Writes per second on the embedded store: single-item puts through
//! `LocalTable` (a realistic 300-byte item each) by N concurrent writers, for
//! a few seconds per level. Every put is answered only once it is durable, so
//! this is the local server's ceiling for "2xx means saved" writes.
//! Informational: no budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use whatif_shared::adapters::local::{LocalStore, LocalTable};
use whatif_shared::clock::SystemClock;
use whatif_shared::ports::table::ItemTable;

use crate::{Options, Row, Stats};

const WRITERS: [usize; 3] = [1, 16, 64];
const PER_LEVEL: Duration = Duration::from_secs(3);

pub async fn run(_options: &Options) -> Result<Vec<Row>, String> {
    // Next to the build, not in a tmpfs /tmp: a sync must reach a disk to count.
    let dir = tempfile::tempdir_in(std::env::current_dir().map_err(|e| e.to_string())?)
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let store = LocalStore::open(&dir.path().join("bench.redb")).map_err(|e| e.to_string())?;
    let table = Arc::new(LocalTable::new(store, Arc::new(SystemClock)));
    println!("\n== store: single-item puts through LocalTable, {} s per level", PER_LEVEL.as_secs());
    println!("   {:<10} {:>12} {:>10} {:>10} {:>10}", "writers", "puts/s", "p50 ms", "p99 ms", "max ms");
    let mut rows = Vec::new();
    for writers in WRITERS {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let (table, stop, count) = (table.clone(), stop.clone(), count.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let put = Instant::now();
                    table.put(item(writers, w, i), None).await.map_err(|e| e.to_string())?;
                    latencies.push(put.elapsed().as_secs_f64() * 1000.0);
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok::<_, String>(latencies)
            }));
        }
        tokio::time::sleep(PER_LEVEL).await;
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.map_err(|e| e.to_string())??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let rate = count.load(Ordering::Relaxed) as f64 / elapsed;
        let s = Stats::of(&mut latencies).ok_or("no puts")?;
        println!("   {:<10} {:>12.0} {:>10.2} {:>10.2} {:>10.2}", writers, rate, s.median, s.p99, s.max);
        rows.push(Row::new(
            format!("embedded store, puts/s with {writers} writer(s)"),
            format!("{rate:.0} (p50 {:.2} ms, p99 {:.2} ms)", s.median, s.p99),
            "",
            None,
        ));
    }
    Ok(rows)
}

fn item(writers: usize, writer: usize, i: u64) -> Map<String, Value> {
    let item = json!({
        "pk": format!("BENCH#{writers}#{writer}"),
        "sk": format!("SCENARIO#{i:010}"),
        "title": "What if the moon were made of cheese?",
        "body": "x".repeat(200),
        "rating": 4,
    });
    match item {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
