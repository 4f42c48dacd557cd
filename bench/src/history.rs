//! The history of a heavy user: 5,000 scenarios of realistic size (offline
//! text, every promptType and length, tags, ratings), then the list, search
//! and stats routes' handlers timed on them, on the embedded store and (with
//! `--emulators`) on DynamoDB Local. Budget: search under 100 ms on the
//! embedded store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use whatif_shared::UserId;
use whatif_shared::adapters::aws::sdk::aws_sdk_dynamodb;
use whatif_shared::adapters::aws::{DynamoTable, create_table_if_missing, emulator_config};
use whatif_shared::auth::{Plan, Principal, Role};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::http::ApiRequest;
use whatif_shared::routes::Route;
use whatif_shared::scenarios::store;
use whatif_shared::scenarios::types::{GenerationOptions, Length, PromptType, Topic};

use crate::{Options, Row, Stats};

const SCENARIOS: usize = 5_000;
const SAMPLES: usize = 30;
const SEARCH_BUDGET_MS: f64 = 100.0;
const OWNER: &str = "01BENCHUSER0000000000000000";

/// The embedded configuration, with a monthly allowance that pays for the
/// heavy user's scenarios (each generation costs a credit).
fn config(path: std::path::PathBuf) -> Config {
    let mut config = Config::embedded(path);
    config.billing.free_monthly = SCENARIOS as i64;
    config
}

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let ctx = AppContext::connect(config(dir.path().join("data"))).await.map_err(|e| e.to_string())?;
    let mut rows = measure("embedded", &ctx, true).await?;
    match std::env::var("WHATIF_TEST_DYNAMODB_URL") {
        Ok(url) if options.emulators => {
            let mut on_dynamodb =
                AppContext::connect(config(dir.path().join("dynamo"))).await.map_err(|e| e.to_string())?;
            let name = format!("whatif-bench-history-{}", std::process::id());
            let client = aws_sdk_dynamodb::Client::new(&emulator_config(&url));
            create_table_if_missing(&client, &name).await.map_err(|e| format!("table on {url}: {e}"))?;
            // Only the table matters to these routes: swap it for DynamoDB Local's.
            let context = Arc::get_mut(&mut on_dynamodb).ok_or("the context is shared")?;
            context.table = Arc::new(DynamoTable::new(client, name, context.clock.clone()));
            rows.extend(measure("DynamoDB Local", &on_dynamodb, false).await?);
        }
        _ => println!(
            "   DynamoDB Local skipped: pass --emulators with WHATIF_TEST_DYNAMODB_URL set (./scripts/emulators)"
        ),
    }
    Ok(rows)
}

async fn measure(backend: &str, ctx: &Arc<AppContext>, budget: bool) -> Result<Vec<Row>, String> {
    println!("\n== history on {backend}: {SCENARIOS} scenarios of one user, {SAMPLES} calls per route");
    let started = Instant::now();
    seed(ctx).await?;
    println!("   seeded in {:.1} s", started.elapsed().as_secs_f64());
    println!("   {:<44} {:>9} {:>9} {:>9} {:>9}", "ms per call", "min", "median", "p95", "max");
    let cases: [(&str, &Route, &str); 7] = [
        ("list, newest first, page 1 of 20", &whatif_history::LIST, ""),
        ("list, by rating, favourites, page 3", &whatif_history::LIST, "sort=rating&isFavorite=true&page=3"),
        ("search, a common word", &whatif_history::SEARCH, "q=what"),
        ("search, a rare word", &whatif_history::SEARCH, "q=number%204321"),
        ("search, Vietnamese without diacritics", &whatif_history::SEARCH, "q=dieu%20gi%20mat%20trang"),
        ("search, with filters", &whatif_history::SEARCH, "q=what&promptType=humor&tags=bench"),
        ("stats", &whatif_history::STATS, ""),
    ];
    let mut rows = Vec::new();
    for (label, route, query) in cases {
        let mut times = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES + 2 {
            let started = Instant::now();
            let reply = (route.handler.run)(ctx.clone(), request(route, query)).await.map_err(|e| e.message)?;
            if i >= 2 {
                times.push(ms(started.elapsed()));
            }
            if reply.status != http::StatusCode::OK {
                return Err(format!("{label}: {}", reply.status));
            }
        }
        let s = Stats::of(&mut times).ok_or("no samples")?;
        println!("   {label:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1}", s.min, s.median, s.p95, s.max);
        let is_search = route.function == whatif_history::SEARCH.function;
        let (limit, pass) = match (budget, is_search) {
            (true, true) => ("< 100 ms", Some(s.p95 < SEARCH_BUDGET_MS)),
            _ => ("", None),
        };
        rows.push(Row::new(
            format!("{backend}: {label} ({SCENARIOS} scenarios)"),
            format!("{:.1} ms median (p95 {:.1})", s.median, s.p95),
            limit,
            pass,
        ));
    }
    Ok(rows)
}

fn request(route: &Route, query: &str) -> ApiRequest {
    let mut req = ApiRequest::new(Method::GET, route.path);
    req.query = url_pairs(query);
    req.principal = Some(Principal { user_id: OWNER.into(), role: Role::User, plan: Plan::Free, session: None });
    req
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// 5,000 scenarios written by the offline provider, as a heavy user's history.
async fn seed(ctx: &Arc<AppContext>) -> Result<(), String> {
    let env = HashMap::from([("WHATIF_MODEL_PROVIDERS".to_string(), "offline".to_string())]);
    let engine = whatif_generation::engine::from_env(ctx, &env)?;
    let lengths = [Length::Short, Length::Medium, Length::Long];
    for i in 0..SCENARIOS {
        let topic = if i % 10 == 0 {
            format!("Điều gì xảy ra nếu Mặt Trăng biến mất lần thứ {i}?")
        } else {
            format!("What if experiment number {i} changed the world?")
        };
        let options = GenerationOptions {
            prompt_type: PromptType::ALL[i % PromptType::ALL.len()],
            length: lengths[i % 3],
            force_new: true,
            ..Default::default()
        };
        let topic = Topic::parse(&topic)?;
        let id = ctx.ids.ulid().to_string();
        let scenario = engine.generate(ctx, Some(OWNER), id, &topic, &options).await.map_err(|e| e.message)?.scenario;
        if i % 4 == 0 {
            store::edit(ctx, &UserId::from_trusted(OWNER), &scenario.scenario_id(), None, |s| {
                s.tags = vec!["bench".into(), format!("group {}", i % 7)];
                s.is_favorite = i % 8 == 0;
                s.rating = Some((i % 5) as u8 + 1);
                Ok(Vec::new())
            })
            .await
            .map_err(|e| e.message)?;
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
