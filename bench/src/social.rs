//! The feeds, timed through their handlers on a seeded store, on the
//! embedded store and (with `--emulators`) on DynamoDB Local:
//!
//! - the latest feed, a page of 20 for a signed-in reader, with the table
//!   calls it made counted by a wrapper of the table port (budget: at most 2:
//!   one query of the feed partition, one batch get for authors and likes);
//! - the following feed of a reader who follows 500 accounts with 3 posts
//!   each (one of them private): fan-out on read (budget: under 100 ms on
//!   the embedded store).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use http::Method;
use whatif_shared::UserId;
use whatif_shared::adapters::aws::sdk::aws_sdk_dynamodb;
use whatif_shared::adapters::aws::{DynamoTable, create_table_if_missing, emulator_config};
use whatif_shared::auth::{Plan, Principal, Role};
use whatif_shared::clock::rfc3339;
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::http::ApiRequest;
use whatif_shared::ports::table::{Cond, Item, ItemTable, Key, Query, QueryPage, TxOp, Update};
use whatif_shared::ports::{StoreError, StoreResult};
use whatif_shared::routes::Route;
use whatif_shared::social::follows;
use whatif_shared::social::posts::{Post, PostType, Visibility};

use crate::{Options, Row, Stats};

const FOLLOWED: usize = 500;
const POSTS_EACH: usize = 3;
const SAMPLES: usize = 30;
const FOLLOWING_BUDGET_MS: f64 = 100.0;
const LATEST_BUDGET_CALLS: usize = 2;

/// The table port, counting the calls that reach it.
struct Counting {
    inner: Arc<dyn ItemTable>,
    queries: AtomicUsize,
    gets: AtomicUsize,
    batch_gets: AtomicUsize,
}

impl Counting {
    fn reset(&self) {
        for n in [&self.queries, &self.gets, &self.batch_gets] {
            n.store(0, Ordering::SeqCst);
        }
    }

    /// (queries, gets, batch gets) since the last reset.
    fn counts(&self) -> (usize, usize, usize) {
        (self.queries.load(Ordering::SeqCst), self.gets.load(Ordering::SeqCst), self.batch_gets.load(Ordering::SeqCst))
    }
}

#[async_trait]
impl ItemTable for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.batch_gets.fetch_add(1, Ordering::SeqCst);
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        self.inner.put(item, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        self.inner.update(key, update, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<Option<Item>> {
        self.inner.delete(key, cond).await
    }
    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        self.inner.transact(ops).await
    }
    async fn check(&self) -> StoreResult<()> {
        self.inner.check().await
    }
}

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
            let table: Arc<dyn ItemTable> = Arc::new(DynamoTable::new(client, name, ctx.clock.clone()));
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
    let context = Arc::get_mut(&mut ctx).ok_or("the context is shared")?;
    let counting = Arc::new(Counting {
        inner: table.unwrap_or_else(|| context.table.clone()),
        queries: AtomicUsize::new(0),
        gets: AtomicUsize::new(0),
        batch_gets: AtomicUsize::new(0),
    });
    context.table = counting.clone();
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
        let mut calls = (0, 0, 0);
        for i in 0..SAMPLES + 2 {
            counting.reset();
            let started = Instant::now();
            let reply =
                (route.handler.run)(ctx.clone(), request(route, query, &reader)).await.map_err(|e| e.message)?;
            let elapsed = started.elapsed();
            if reply.status != http::StatusCode::OK {
                return Err(format!("{label}: {}", reply.status));
            }
            let body: serde_json::Value = serde_json::from_slice(&reply.body_bytes()).unwrap_or_default();
            if body["data"]["items"].as_array().map_or(0, Vec::len) != 20 {
                return Err(format!("{label}: the page does not hold 20 items: {body}"));
            }
            calls = counting.counts();
            if i >= 2 {
                times.push(ms(elapsed));
            }
        }
        let s = Stats::of(&mut times).ok_or("no samples")?;
        let (queries, gets, batch_gets) = calls;
        let total = queries + gets + batch_gets;
        let described = format!("{total} ({queries} q, {batch_gets} batch, {gets} get)");
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
