//! The feeds, timed through their handlers on a seeded store, on the
//! embedded store and (with `--emulators`) on DynamoDB Local:
//!
//! - the latest feed, a page of 20 for a signed-in reader, with the table
//!   calls it made counted as every request's are (`metering`; budget: at
//!   most 2: one query of the feed partition, one batch get for authors and
//!   likes);
//! - the following feed of a reader who follows 500 accounts with 3 posts
//!   each (one of them private): fan-out on read (budget: under 100 ms on
//!   the embedded store).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use whatif_shared::UserId;
use whatif_shared::adapters::aws::sdk::aws_sdk_dynamodb;
use whatif_shared::adapters::aws::{DynamoTable, create_table_if_missing, emulator_config};
use whatif_shared::auth::{Plan, Principal, Role};
use whatif_shared::clock::rfc3339;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::http::ApiRequest;
use whatif_shared::metering::{self, Cost, Meter, Metered};
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::ItemTable;
use whatif_shared::routes::Route;
use whatif_shared::social::follows;
use whatif_shared::social::posts::{Post, PostType, Visibility};

use crate::{Options, Row, Stats};

const FOLLOWED: usize = 500;
const POSTS_EACH: usize = 3;
const SAMPLES: usize = 30;
const FOLLOWING_BUDGET_MS: f64 = 100.0;
const LATEST_BUDGET_CALLS: usize = 2;

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let ctx = AppContext::connect(Config::embedded(dir.path().join("data"))).await.map_err(|e| e.to_string())?;
    let mut rows = measure("embedded", ctx, None, true).await?;
    match std::env::var("WHATIF_TEST_DYNAMODB_URL") {
        Ok(url) if options.emulators => {
            let ctx =
                AppContext::connect(Config::embedded(dir.path().join("dynamo"))).await.map_err(|e| e.to_string())?;
            let name = format!("whatif-bench-social-{}", std::process::id());
            let client = aws_sdk_dynamodb::Client::new(&emulator_config(&url));
            create_table_if_missing(&client, &name).await.map_err(|e| format!("table on {url}: {e}"))?;
            let table: Arc<dyn ItemTable> =
                Arc::new(Metered::<dyn ItemTable>::new(Arc::new(DynamoTable::new(client, name, ctx.clock.clone()))));
            rows.extend(measure("DynamoDB Local", ctx, Some(table), false).await?);
        }
        _ => println!(
            "   DynamoDB Local skipped: pass --emulators with WHATIF_TEST_DYNAMODB_URL set (./scripts/emulators)"
        ),
    }
    Ok(rows)
}

async fn measure(
    backend: &str,
    mut ctx: Arc<AppContext>,
    table: Option<Arc<dyn ItemTable>>,
    budget: bool,
) -> Result<Vec<Row>, String> {
    if let Some(table) = table {
        Arc::get_mut(&mut ctx).ok_or("the context is shared")?.table = table;
    }
    println!("\n== social on {backend}: {FOLLOWED} followed accounts × {POSTS_EACH} posts, {SAMPLES} calls per feed");
    let started = Instant::now();
    let reader = seed(&ctx).await?;
    println!("   seeded in {:.1} s", started.elapsed().as_secs_f64());
    println!("   {:<44} {:>9} {:>9} {:>9} {:>9} {:>22}", "ms per call", "min", "median", "p95", "max", "table calls");
    let cases: [(&str, &Route, &str); 2] = [
        ("latest feed, a page of 20", &whatif_social::POSTS_FEED, "type=latest&limit=20"),
        ("following feed (500 follows), page of 20", &whatif_social::POSTS_FEED, "type=following&limit=20"),
    ];
    let mut rows = Vec::new();
    for (label, route, query) in cases {
        let mut times = Vec::with_capacity(SAMPLES);
        let mut cost = Cost::default();
        for i in 0..SAMPLES + 2 {
            let meter = Arc::new(Meter::new(false));
            let started = Instant::now();
            let handled = (route.handler.run)(ctx.clone(), request(route, query, &reader));
            let reply = metering::metered(meter.clone(), handled).await.map_err(|e| e.message)?;
            let elapsed = started.elapsed();
            if reply.status != http::StatusCode::OK {
                return Err(format!("{label}: {}", reply.status));
            }
            let body: serde_json::Value = serde_json::from_slice(&reply.body_bytes()).unwrap_or_default();
            if body["data"]["items"].as_array().map_or(0, Vec::len) != 20 {
                return Err(format!("{label}: the page does not hold 20 items: {body}"));
            }
            cost = meter.cost();
            if i >= 2 {
                times.push(ms(elapsed));
            }
        }
        let s = Stats::of(&mut times).ok_or("no samples")?;
        let total = cost.table_calls() as usize;
        let described = format!("{total} ({} reads)", cost.reads);
        println!("   {label:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {described:>22}", s.min, s.median, s.p95, s.max);
        let is_latest = query.contains("latest");
        let (limit, pass) = match (is_latest, budget) {
            (true, _) => ("≤ 2 table calls", Some(total <= LATEST_BUDGET_CALLS)),
            (false, true) => ("< 100 ms", Some(s.p95 < FOLLOWING_BUDGET_MS)),
            (false, false) => ("", None),
        };
        rows.push(Row::new(
            format!("{backend}: {label}"),
            format!("{:.1} ms median (p95 {:.1}), {described} table calls", s.median, s.p95),
            limit,
            pass,
        ));
    }
    Ok(rows)
}

fn request(route: &Route, query: &str, reader: &UserId) -> ApiRequest {
    let mut req = ApiRequest::new(Method::GET, route.path);
    req.query = url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    req.principal = Some(Principal { user_id: reader.to_string(), role: Role::User, plan: Plan::Free, session: None });
    req
}

/// A reader who follows 500 accounts, each with three posts over the last
/// days (public, followers-only, private). Posts are written as items (the
/// publish path is not what is measured); follows through `follows::follow`.
async fn seed(ctx: &Arc<AppContext>) -> Result<UserId, String> {
    let reader = UserId::from(ctx.ids.ulid());
    let now = ctx.clock.now();
    let visibilities = [Visibility::Public, Visibility::Followers, Visibility::Private];
    for a in 0..FOLLOWED {
        let author = UserId::from(ctx.ids.ulid());
        follows::follow(ctx, &reader, &author).await.map_err(|e| e.message)?;
        for p in 0..POSTS_EACH {
            let at = rfc3339(now - Duration::from_secs((a * POSTS_EACH + p) as u64 * 37));
            let post = Post {
                id: ctx.ids.ulid().to_string(),
                author_id: author.to_string(),
                title: format!("What if account {a} posted {p}?"),
                content: "A few lines about a scenario worth reading. ".repeat(8),
                post_type: PostType::Custom,
                visibility: visibilities[p % 3],
                tags: vec!["bench".into()],
                scenario_id: None,
                likes: (a % 13) as i64,
                comments: (a % 5) as i64,
                threads: (a % 5) as i64,
                is_hidden: false,
                version: 1,
                created_at: at.clone(),
                updated_at: at.clone(),
                published_at: at,
            };
            let item = post.to_item().map_err(|e| e.message)?;
            ctx.table.put(item, None).await.map_err(|e: StoreError| e.to_string())?;
        }
    }
    Ok(reader)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
