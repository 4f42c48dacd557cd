//! The `ItemTable` suite. The table must be built with `clock`, and the clock
//! should read about the real time (DynamoDB's own TTL sweeper uses it).
//!
//! GSI reads are eventually consistent on DynamoDB, so index assertions poll
//! for a few seconds before failing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{assert_invalid, ok, run_id};
use crate::clock::{Clock, FixedClock};
use crate::ports::table::{Cond, Index, Item, ItemTable, Key, PK, Query, SK, SortKey, TTL, TxOp, Update};
use crate::ports::{StoreError, StoreResult};

/// How long an index may lag behind the table.
const INDEX_LAG: Duration = Duration::from_secs(5);

/// Runs every table check; panics on the first broken behaviour.
pub async fn item_table(table: Arc<dyn ItemTable>, clock: Arc<FixedClock>) {
    let run = run_id();
    let t = table.as_ref();
    ok(t.check().await, "check");
    round_trip(t, &run).await;
    put_conditions(t, &run).await;
    conditions(t, &run).await;
    updates(t, &run).await;
    concurrent_adds(&table, &run).await;
    deletes(t, &run).await;
    queries(t, &run).await;
    pagination(t, &run).await;
    indexes(t, &run).await;
    batch_get(t, &run).await;
    transactions(t, &run).await;
    ttl(t, &clock, &run).await;
    concurrent_creates(&table, &run).await;
}

fn item(pk: &str, sk: &str, rest: Value) -> Item {
    let mut item = match rest {
        Value::Object(map) => map,
        _ => Item::new(),
    };
    item.insert(PK.into(), pk.into());
    item.insert(SK.into(), sk.into());
    item
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.get(SK).and_then(Value::as_str).unwrap_or("<no sk>").to_string()).collect()
}

#[track_caller]
fn assert_condition_failed<T: std::fmt::Debug>(result: StoreResult<T>, step: &str) {
    match result {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("{step}: expected StoreError::ConditionFailed, got {other:?}"),
    }
}

async fn round_trip(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#round");
    let stored = item(
        &pk,
        "all-types",
        json!({
            "text": "Chuyện gì xảy ra nếu… ✓",
            "empty": "",
            "int": 42,
            "negative": -7,
            "max": i64::MAX,
            "min": i64::MIN,
            "float": 1.5,
            "fraction": -0.25,
            "yes": true,
            "no": false,
            "nothing": null,
            "list": [1, "a", null, [true], {"k": "v"}],
            "map": {"a": {"b": [1, 2]}, "status": "reserved words are fine"},
            "empty_list": [],
            "empty_map": {},
            // Reserved words in DynamoDB, as attribute names.
            "status": "ok",
            "name": "n",
            "size": 3,
        }),
    );
    ok(t.put(stored.clone(), None).await, "put an item of every JSON type");
    let got = ok(t.get(&Key::new(&pk, "all-types")).await, "get it back");
    assert_eq!(got.as_ref(), Some(&stored), "get returns exactly what put stored");
    assert_eq!(ok(t.get(&Key::new(&pk, "missing")).await, "get a missing key"), None, "a missing key reads as None");

    let replacement = item(&pk, "all-types", json!({"only": 1}));
    ok(t.put(replacement.clone(), None).await, "put without a condition replaces");
    let got = ok(t.get(&Key::new(&pk, "all-types")).await, "get the replacement");
    assert_eq!(got, Some(replacement), "put replaces the whole item (no merge)");

    let mut no_key = Item::new();
    no_key.insert("x".into(), json!(1));
    assert_invalid(t.put(no_key, None).await, "put an item without pk/sk");
}

async fn put_conditions(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#putcond");
    let first = item(&pk, "a", json!({"v": 1}));
    ok(t.put(first.clone(), Some(Cond::NotExists)).await, "first put with NotExists");
    let second = item(&pk, "a", json!({"v": 2}));
    assert_condition_failed(t.put(second, Some(Cond::NotExists)).await, "second put with NotExists");
    let got = ok(t.get(&Key::new(&pk, "a")).await, "get after the refused put");
    assert_eq!(got, Some(first), "a refused put changes nothing");

    assert_condition_failed(
        t.put(item(&pk, "b", json!({})), Some(Cond::Exists)).await,
        "put with Exists on a missing item",
    );
    assert_eq!(ok(t.get(&Key::new(&pk, "b")).await, "get b"), None, "a refused put creates nothing");
    ok(t.put(item(&pk, "a", json!({"v": 3})), Some(Cond::Exists)).await, "put with Exists on an existing item");
}

/// Each condition, through an update that only touches a probe attribute.
async fn conditions(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#cond");
    let key = Key::new(&pk, "x");
    let base = json!({"n": 5, "s": "b", "flag": true, "status": "active"});
    ok(t.put(item(&pk, "x", base), None).await, "put the condition target");
    let s = |v: &str| Value::from(v);
    let cases: Vec<(&str, Cond, bool)> = vec![
        ("Exists on an existing item", Cond::Exists, true),
        ("NotExists on an existing item", Cond::NotExists, false),
        ("Eq number", Cond::eq("n", 5), true),
        ("Eq number, other value", Cond::eq("n", 6), false),
        ("Eq number vs string (type mismatch)", Cond::eq("n", "5"), false),
        ("Eq string", Cond::eq("s", "b"), true),
        ("Eq bool", Cond::eq("flag", true), true),
        ("Eq reserved-word attribute", Cond::eq("status", "active"), true),
        ("Eq missing attribute", Cond::eq("nope", 1), false),
        ("Ne other value", Cond::Ne("n".into(), json!(6)), true),
        ("Ne same value", Cond::Ne("n".into(), json!(5)), false),
        ("Ne missing attribute", Cond::Ne("nope".into(), json!(1)), true),
        ("Lt greater", Cond::Lt("n".into(), json!(6)), true),
        ("Lt equal", Cond::Lt("n".into(), json!(5)), false),
        ("Lt compares numbers numerically", Cond::Lt("n".into(), json!(10)), true),
        ("Le equal", Cond::Le("n".into(), json!(5)), true),
        ("Le smaller", Cond::Le("n".into(), json!(4)), false),
        ("Gt smaller", Cond::Gt("n".into(), json!(4)), true),
        ("Gt equal", Cond::Gt("n".into(), json!(5)), false),
        ("Gt with a float", Cond::Gt("n".into(), json!(4.5)), true),
        ("Ge equal", Cond::Ge("n".into(), json!(5)), true),
        ("Ge greater", Cond::Ge("n".into(), json!(6)), false),
        ("Lt strings by bytes", Cond::Lt("s".into(), s("c")), true),
        ("Gt strings by bytes", Cond::Gt("s".into(), s("B")), true),
        ("Lt number vs string (type mismatch)", Cond::Lt("n".into(), s("9")), false),
        ("Gt missing attribute", Cond::Gt("nope".into(), json!(0)), false),
        ("AttrExists present", Cond::AttrExists("flag".into()), true),
        ("AttrExists absent", Cond::AttrExists("nope".into()), false),
        ("AttrNotExists absent", Cond::AttrNotExists("nope".into()), true),
        ("AttrNotExists present", Cond::AttrNotExists("flag".into()), false),
        ("And all true", Cond::And(vec![Cond::eq("n", 5), Cond::eq("s", "b")]), true),
        ("And one false", Cond::And(vec![Cond::eq("n", 5), Cond::eq("s", "x")]), false),
        ("Or one true", Cond::Or(vec![Cond::eq("n", 9), Cond::eq("s", "b")]), true),
        ("Or all false", Cond::Or(vec![Cond::eq("n", 9), Cond::eq("s", "x")]), false),
        (
            "nested And(Or, AttrExists)",
            Cond::And(vec![Cond::Or(vec![Cond::eq("n", 9), Cond::Exists]), Cond::AttrExists("s".into())]),
            true,
        ),
        (
            "nested Or(And, And)",
            Cond::Or(vec![
                Cond::And(vec![Cond::eq("n", 5), Cond::AttrNotExists("flag".into())]),
                Cond::And(vec![Cond::Ge("n".into(), json!(6)), Cond::eq("s", "b")]),
            ]),
            false,
        ),
    ];
    for (probe, (label, cond, holds)) in cases.into_iter().enumerate() {
        let update = Update::new().set("probe", probe as i64);
        let result = t.update(&key, update, Some(cond.clone())).await;
        if holds {
            let after = ok(result, &format!("condition {label:?} ({cond:?}) should hold"));
            assert_eq!(after.get("probe"), Some(&json!(probe)), "{label}: the update applied");
        } else {
            assert_condition_failed(result, &format!("condition {label:?} ({cond:?}) should not hold"));
        }
    }
    let after = ok(t.get(&key).await, "get the condition target").unwrap_or_default();
    assert_eq!(after.get("n"), Some(&json!(5)), "conditions never changed the checked attributes");

    let missing = Key::new(&pk, "missing");
    for (label, cond, holds) in [
        ("NotExists on a missing item", Cond::NotExists, true),
        ("AttrNotExists on a missing item", Cond::AttrNotExists("n".into()), true),
        ("Eq on a missing item", Cond::eq("n", 5), false),
        ("AttrExists on a missing item", Cond::AttrExists("n".into()), false),
    ] {
        let result = t.put(item(&pk, "missing", json!({})), Some(cond.clone())).await;
        if holds {
            ok(result, label);
            ok(t.delete(&missing, None).await, "delete the probe item again");
        } else {
            assert_condition_failed(result, label);
        }
    }
}

async fn updates(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#update");
    let key = Key::new(&pk, "u");
    let first = Update::new().set("name", "x").set_if_absent("created", 1).add("count", 2).set("nothing", Value::Null);
    let got = ok(t.update(&key, first, None).await, "update creates a missing item");
    let want = item(&pk, "u", json!({"name": "x", "created": 1, "count": 2, "nothing": null}));
    assert_eq!(got, want, "update returns the new item (ALL_NEW), counting a missing attribute as 0");

    let second = Update::new().set_if_absent("created", 99).add("count", 3).remove("name").set("tags", json!(["a"]));
    let got = ok(t.update(&key, second, Some(Cond::Exists)).await, "second update");
    let want = item(&pk, "u", json!({"created": 1, "count": 5, "nothing": null, "tags": ["a"]}));
    assert_eq!(got, want, "set_if_absent keeps a present value, add adds, remove removes");
    assert_eq!(ok(t.get(&key).await, "get after update"), Some(want), "get sees what update returned");

    let negative = ok(t.update(&key, Update::new().add("count", -10), None).await, "add a negative number");
    assert_eq!(negative.get("count"), Some(&json!(-5)), "add accepts negative numbers");

    let missing = Key::new(&pk, "missing");
    assert_condition_failed(
        t.update(&missing, Update::new().set("a", 1), Some(Cond::Exists)).await,
        "update with Exists on a missing item",
    );
    assert_eq!(ok(t.get(&missing).await, "get missing"), None, "a refused update creates nothing");
    assert_condition_failed(
        t.update(&key, Update::new().set("a", 1), Some(Cond::eq("count", 0))).await,
        "update with a false condition",
    );
    assert_invalid(t.update(&key, Update::new().set(PK, "other"), None).await, "update of the pk attribute");
    assert_invalid(t.update(&key, Update::new().remove(SK), None).await, "removal of the sk attribute");
}

async fn concurrent_adds(table: &Arc<dyn ItemTable>, run: &str) {
    let key = Key::new(format!("conf#{run}#counter"), "c");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (table, key) = (table.clone(), key.clone());
            tokio::spawn(async move { table.update(&key, Update::new().add("hits", 1), None).await })
        })
        .collect();
    for task in tasks {
        ok(task.await.expect("add task panicked"), "concurrent add");
    }
    let got = ok(table.get(&key).await, "get the counter").unwrap_or_default();
    assert_eq!(got.get("hits"), Some(&json!(20)), "20 concurrent adds of 1 sum to 20");
}

async fn deletes(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#delete");
    let stored = item(&pk, "d", json!({"v": 1}));
    ok(t.put(stored.clone(), None).await, "put the item to delete");
    let key = Key::new(&pk, "d");
    assert_condition_failed(t.delete(&key, Some(Cond::eq("v", 2))).await, "delete with a false condition");
    assert_eq!(
        ok(t.get(&key).await, "get after refused delete"),
        Some(stored.clone()),
        "a refused delete keeps the item"
    );
    let old = ok(t.delete(&key, Some(Cond::eq("v", 1))).await, "delete with a true condition");
    assert_eq!(old, Some(stored), "delete returns the old item");
    assert_eq!(ok(t.get(&key).await, "get after delete"), None, "a deleted item is gone");
    assert_eq!(ok(t.delete(&key, None).await, "delete a missing item"), None, "deleting a missing item returns None");
    assert_condition_failed(t.delete(&key, Some(Cond::Exists)).await, "delete with Exists on a missing item");
}

/// Sort keys of one partition, in the order a forward query returns them.
const SORTED: [&str; 8] = ["a#01", "a#02", "a#03", "a#04", "a#05", "b#01", "b#02", "c"];

async fn put_partition(t: &dyn ItemTable, pk: &str) {
    // Written out of order, so the order of results comes from the sort key.
    for sk in SORTED.iter().rev() {
        ok(t.put(item(pk, sk, json!({"v": sk})), None).await, "put a partition item");
    }
}

async fn queries(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#query");
    put_partition(t, &pk).await;
    // A neighbouring partition whose name extends this one must never leak in.
    ok(t.put(item(&format!("{pk}x"), "a#01", json!({})), None).await, "put a neighbour");

    let all = ok(t.query(&Query::partition(Index::Primary, &pk)).await, "query the partition");
    assert_eq!(sks(&all.items), SORTED, "a forward query returns the partition in sort-key order");
    assert_eq!(all.items[0].get("v"), Some(&json!("a#01")), "query returns whole items");
    let back = ok(t.query(&Query::partition(Index::Primary, &pk).backward()).await, "backward query");
    let reversed: Vec<&str> = SORTED.iter().rev().copied().collect();
    assert_eq!(sks(&back.items), reversed, "a backward query returns descending sort keys");

    let s = String::from;
    let cases: Vec<(SortKey, Vec<&str>)> = vec![
        (SortKey::Any, SORTED.to_vec()),
        (SortKey::Eq(s("a#03")), vec!["a#03"]),
        (SortKey::Eq(s("a#")), vec![]),
        (SortKey::BeginsWith(s("a#")), vec!["a#01", "a#02", "a#03", "a#04", "a#05"]),
        (SortKey::BeginsWith(s("b")), vec!["b#01", "b#02"]),
        (SortKey::Between(s("a#02"), s("a#04")), vec!["a#02", "a#03", "a#04"]),
        (SortKey::Between(s("a#05"), s("b#99")), vec!["a#05", "b#01", "b#02"]),
        (SortKey::Lt(s("a#03")), vec!["a#01", "a#02"]),
        (SortKey::Le(s("a#03")), vec!["a#01", "a#02", "a#03"]),
        (SortKey::Gt(s("b#01")), vec!["b#02", "c"]),
        (SortKey::Ge(s("b#01")), vec!["b#01", "b#02", "c"]),
        (SortKey::Gt(s("c")), vec![]),
    ];
    for (sk, want) in cases {
        let q = Query::partition(Index::Primary, &pk).sk(sk.clone());
        let page = ok(t.query(&q).await, &format!("query with {sk:?}"));
        assert_eq!(sks(&page.items), want, "query with {sk:?}");
        assert_eq!(page.next, None, "query with {sk:?} and no limit has no next page");
        let back = ok(t.query(&q.clone().backward()).await, &format!("backward query with {sk:?}"));
        let want_back: Vec<&str> = want.iter().rev().copied().collect();
        assert_eq!(sks(&back.items), want_back, "backward query with {sk:?}");
    }
    let empty = ok(t.query(&Query::partition(Index::Primary, format!("conf#{run}#nothing"))).await, "query empty");
    assert!(empty.items.is_empty() && empty.next.is_none(), "an empty partition gives an empty page");
}

/// Follows `next` until the end; returns the sort keys and the number of pages.
async fn collect_pages(t: &dyn ItemTable, query: Query, limit: usize) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut start = None;
    for page_no in 1..=50 {
        let q = query.clone().limit(limit).start(start.take());
        let page = ok(t.query(&q).await, &format!("page {page_no} of {query:?}"));
        assert!(page.items.len() <= limit, "a page holds at most `limit` items ({query:?})");
        seen.extend(sks(&page.items));
        match page.next {
            Some(next) => start = Some(next),
            None => return (seen, page_no),
        }
    }
    panic!("pagination of {query:?} never ended");
}

async fn pagination(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#pages");
    put_partition(t, &pk).await;
    for limit in [1, 3, 8, 20] {
        let (seen, pages) = collect_pages(t, Query::partition(Index::Primary, &pk), limit).await;
        assert_eq!(seen, SORTED, "limit {limit}: pages visit every item once, in order");
        assert!(pages >= SORTED.len().div_ceil(limit), "limit {limit}: {pages} pages are too few");
        let (seen, _) = collect_pages(t, Query::partition(Index::Primary, &pk).backward(), limit).await;
        let reversed: Vec<&str> = SORTED.iter().rev().copied().collect();
        assert_eq!(seen, reversed, "limit {limit}: backward pages visit every item once");
    }
    let q = Query::partition(Index::Primary, &pk).sk(SortKey::BeginsWith("a#".into()));
    let (seen, _) = collect_pages(t, q, 2).await;
    assert_eq!(seen, SORTED[..5], "pages of a sort-key condition stay inside it");
}

/// Polls an index query until it returns `want` (indexes may lag).
async fn assert_index(t: &dyn ItemTable, index: Index, pk: &str, want: &[&str], label: &str) {
    let deadline = tokio::time::Instant::now() + INDEX_LAG;
    loop {
        let page = ok(t.query(&Query::partition(index, pk)).await, label);
        let got = sks(&page.items);
        if got == want {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("{label}: {index:?} partition {pk:?} holds {got:?}, expected {want:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn indexes(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#gsi");
    let (g1, g1b, g2) = (format!("conf#{run}#g1"), format!("conf#{run}#g1b"), format!("conf#{run}#g2"));
    // Index sort keys run opposite to the table's, to prove the index order is used.
    ok(t.put(item(&pk, "1", json!({"gsi1pk": g1, "gsi1sk": "z", "gsi2pk": g2, "gsi2sk": "b"})), None).await, "put 1");
    ok(t.put(item(&pk, "2", json!({"gsi1pk": g1, "gsi1sk": "y"})), None).await, "put 2");
    ok(t.put(item(&pk, "3", json!({"gsi1pk": g1, "gsi1sk": "x", "gsi2pk": g2, "gsi2sk": "a"})), None).await, "put 3");
    ok(t.put(item(&pk, "4", json!({"other": 1})), None).await, "put 4 (in no index)");

    assert_index(t, Index::Gsi1, &g1, &["3", "2", "1"], "GSI1 holds the items with gsi1 attrs, by gsi1sk").await;
    assert_index(t, Index::Gsi2, &g2, &["3", "1"], "GSI2 holds the items with gsi2 attrs, by gsi2sk").await;
    let page = ok(t.query(&Query::partition(Index::Gsi1, &g1).sk(SortKey::Le("y".into()))).await, "GSI1 sk query");
    assert_eq!(sks(&page.items), ["3", "2"], "sort-key conditions apply to the index sort key");
    assert_eq!(page.items[0].get("gsi2sk"), Some(&json!("a")), "index queries return whole items");

    let (seen, _) = collect_pages(t, Query::partition(Index::Gsi1, &g1), 1).await;
    assert_eq!(seen, ["3", "2", "1"], "GSI1 pagination visits every item once");
    let (seen, _) = collect_pages(t, Query::partition(Index::Gsi2, &g2).backward(), 1).await;
    assert_eq!(seen, ["1", "3"], "GSI2 backward pagination visits every item once");
    let first = ok(t.query(&Query::partition(Index::Gsi1, &g1).limit(1)).await, "GSI1 first page");
    let next = first.next.expect("a GSI page cut by its limit has a next cursor");
    for attr in [PK, SK, "gsi1pk", "gsi1sk"] {
        assert!(next.contains_key(attr), "a GSI1 cursor carries {attr}: {next:?}");
    }

    let key2 = Key::new(&pk, "2");
    ok(t.update(&key2, Update::new().set("gsi1pk", g1b.as_str()), None).await, "move item 2 to another GSI1 partition");
    assert_index(t, Index::Gsi1, &g1, &["3", "1"], "an item whose gsi1pk changed leaves its old index partition").await;
    assert_index(t, Index::Gsi1, &g1b, &["2"], "and appears in its new one").await;
    ok(t.update(&Key::new(&pk, "3"), Update::new().set("gsi1sk", "zz"), None).await, "re-sort item 3");
    assert_index(t, Index::Gsi1, &g1, &["1", "3"], "changing gsi1sk re-sorts the item in the index").await;
    ok(t.update(&Key::new(&pk, "1"), Update::new().remove("gsi1pk").remove("gsi1sk"), None).await, "unindex 1");
    assert_index(t, Index::Gsi1, &g1, &["3"], "removing the gsi1 attrs drops the item from GSI1").await;
    assert_index(t, Index::Gsi2, &g2, &["3", "1"], "and leaves it in GSI2").await;
    ok(
        t.update(&Key::new(&pk, "4"), Update::new().set("gsi2pk", g2.as_str()).set("gsi2sk", "c"), None).await,
        "index 4",
    );
    assert_index(t, Index::Gsi2, &g2, &["3", "1", "4"], "setting the gsi2 attrs adds the item to GSI2").await;
    ok(t.delete(&Key::new(&pk, "3"), None).await, "delete 3");
    assert_index(t, Index::Gsi2, &g2, &["1", "4"], "a deleted item leaves every index").await;
    assert_index(t, Index::Gsi1, &g1, &[], "a deleted item leaves GSI1").await;
}

async fn batch_get(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#batch");
    for sk in ["1", "2", "3"] {
        ok(t.put(item(&pk, sk, json!({"v": sk})), None).await, "put a batch item");
    }
    let keys = [Key::new(&pk, "3"), Key::new(&pk, "missing"), Key::new(&pk, "1"), Key::new(&pk, "2")];
    let mut got = ok(t.batch_get(&keys).await, "batch_get");
    got.sort_by_key(|i| i.get(SK).and_then(Value::as_str).map(str::to_string));
    assert_eq!(sks(&got), ["1", "2", "3"], "batch_get returns the existing items and skips missing keys");
    assert_eq!(got[0].get("v"), Some(&json!("1")), "batch_get returns whole items");
    assert!(ok(t.batch_get(&[]).await, "batch_get of nothing").is_empty(), "batch_get of no keys is empty");
    let many: Vec<Key> = (0..101).map(|i| Key::new(&pk, i.to_string())).collect();
    assert_invalid(t.batch_get(&many).await, "batch_get of 101 keys");
}

async fn transactions(t: &dyn ItemTable, run: &str) {
    let pk = format!("conf#{run}#tx");
    let key = |sk: &str| Key::new(&pk, sk);
    ok(t.put(item(&pk, "check", json!({"v": 1})), None).await, "put check");
    ok(t.put(item(&pk, "gone", json!({"v": 1})), None).await, "put gone");

    let ops = vec![
        TxOp::Put { item: item(&pk, "new", json!({"v": 1})), cond: Some(Cond::NotExists) },
        TxOp::Update { key: key("counter"), update: Update::new().add("n", 1), cond: None },
        TxOp::Delete { key: key("gone"), cond: Some(Cond::Exists) },
        TxOp::Check { key: key("check"), cond: Cond::eq("v", 1) },
    ];
    ok(t.transact(ops).await, "put + update + delete + check");
    assert!(ok(t.get(&key("new")).await, "get new").is_some(), "the transaction's put happened");
    let counter = ok(t.get(&key("counter")).await, "get counter").unwrap_or_default();
    assert_eq!(counter.get("n"), Some(&json!(1)), "the transaction's update happened");
    assert_eq!(ok(t.get(&key("gone")).await, "get gone"), None, "the transaction's delete happened");

    let ops = vec![
        TxOp::Put { item: item(&pk, "never", json!({})), cond: None },
        TxOp::Update { key: key("counter"), update: Update::new().add("n", 1), cond: None },
        TxOp::Check { key: key("missing"), cond: Cond::Exists },
    ];
    match t.transact(ops).await {
        Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, [2], "the failed check is reported"),
        other => panic!("a transaction with a false check: expected TransactionCanceled, got {other:?}"),
    }
    assert_eq!(ok(t.get(&key("never")).await, "get never"), None, "a cancelled transaction writes nothing");
    let counter = ok(t.get(&key("counter")).await, "get counter").unwrap_or_default();
    assert_eq!(counter.get("n"), Some(&json!(1)), "a cancelled transaction updates nothing");

    let ops = vec![
        TxOp::Put { item: item(&pk, "new", json!({"v": 2})), cond: Some(Cond::NotExists) },
        TxOp::Put { item: item(&pk, "never", json!({})), cond: None },
        TxOp::Delete { key: key("check"), cond: Some(Cond::eq("v", 999)) },
        TxOp::Update { key: key("counter"), update: Update::new().add("n", 1), cond: Some(Cond::eq("n", 1)) },
    ];
    match t.transact(ops).await {
        Err(StoreError::TransactionCanceled { failed }) => {
            assert_eq!(failed, [0, 2], "every failed condition is reported, by index")
        }
        other => panic!("a transaction with two false conditions: expected TransactionCanceled, got {other:?}"),
    }
    assert_eq!(ok(t.get(&key("never")).await, "get never"), None, "a cancelled transaction writes nothing");
    assert!(ok(t.get(&key("check")).await, "get check").is_some(), "a cancelled transaction deletes nothing");

    let twice = vec![
        TxOp::Check { key: key("check"), cond: Cond::Exists },
        TxOp::Update { key: key("check"), update: Update::new().set("a", 1), cond: None },
    ];
    assert_invalid(t.transact(twice).await, "a transaction touching one item twice");
    assert_invalid(t.transact(Vec::new()).await, "an empty transaction");
}

async fn ttl(t: &dyn ItemTable, clock: &FixedClock, run: &str) {
    let pk = format!("conf#{run}#ttl");
    let key = |sk: &str| Key::new(&pk, sk);
    let now = clock.epoch_seconds();
    let short = item(&pk, "short", json!({"v": 1, "keep": "old", TTL: now + 60}));
    ok(t.put(short.clone(), None).await, "put an item with a ttl");
    for (sk, ttl) in [("exact", now + 120), ("cond", now + 60), ("tx", now + 60), ("del", now + 60), ("upd", now + 60)]
    {
        ok(t.put(item(&pk, sk, json!({"v": 1, "keep": "old", TTL: ttl})), None).await, "put a ttl item");
    }
    ok(t.put(item(&pk, "long", json!({TTL: now + 100_000})), None).await, "put a long-lived item");
    ok(t.put(item(&pk, "plain", json!({})), None).await, "put an item without ttl");
    assert_eq!(ok(t.get(&key("short")).await, "get before expiry"), Some(short), "an item is there until its ttl");

    clock.advance(Duration::from_secs(120));
    assert_eq!(ok(t.get(&key("short")).await, "get expired"), None, "an expired item reads as None");
    assert_eq!(ok(t.get(&key("exact")).await, "get at ttl"), None, "an item expires when now == ttl");
    let page = ok(t.query(&Query::partition(Index::Primary, &pk)).await, "query with expired items");
    assert_eq!(sks(&page.items), ["long", "plain"], "queries skip expired items");
    let (seen, _) = collect_pages(t, Query::partition(Index::Primary, &pk), 2).await;
    assert_eq!(seen, ["long", "plain"], "pagination skips expired items and still reaches the end");
    let got = ok(t.batch_get(&[key("short"), key("plain")]).await, "batch_get with an expired key");
    assert_eq!(sks(&got), ["plain"], "batch_get skips expired items");

    assert_condition_failed(t.put(item(&pk, "cond", json!({})), Some(Cond::Exists)).await, "Exists on expired");
    assert_condition_failed(
        t.update(&key("cond"), Update::new().set("x", 1), Some(Cond::AttrExists("keep".into()))).await,
        "AttrExists on an expired item",
    );
    assert_condition_failed(t.delete(&key("cond"), Some(Cond::eq("v", 1))).await, "Eq on an expired item");
    match t.transact(vec![TxOp::Check { key: key("cond"), cond: Cond::Exists }]).await {
        Err(StoreError::TransactionCanceled { failed }) => {
            assert_eq!(failed, [0], "a Check Exists on an expired item fails")
        }
        other => panic!("Check Exists on an expired item: expected TransactionCanceled, got {other:?}"),
    }
    let fresh = item(&pk, "short", json!({"v": 2}));
    ok(t.put(fresh.clone(), Some(Cond::NotExists)).await, "put NotExists over an expired item");
    assert_eq!(
        ok(t.get(&key("short")).await, "get the new item"),
        Some(fresh),
        "the new item replaced the expired one"
    );

    let updated =
        ok(t.update(&key("upd"), Update::new().add("v", 5).set_if_absent("keep", "new"), None).await, "update");
    assert_eq!(
        updated,
        item(&pk, "upd", json!({"v": 5, "keep": "new"})),
        "an update of an expired item starts from an empty item"
    );
    let created = ok(
        t.update(&key("cond"), Update::new().set("v", 7), Some(Cond::NotExists)).await,
        "update with NotExists over an expired item",
    );
    assert_eq!(created, item(&pk, "cond", json!({"v": 7})), "update with NotExists starts from an empty item");

    let ops = vec![TxOp::Update { key: key("tx"), update: Update::new().add("v", 1), cond: Some(Cond::NotExists) }];
    ok(t.transact(ops).await, "a transaction updating an expired item");
    let got = ok(t.get(&key("tx")).await, "get tx");
    assert_eq!(got, Some(item(&pk, "tx", json!({"v": 1}))), "a transaction update starts from an empty item");

    assert_eq!(ok(t.delete(&key("del"), None).await, "delete expired"), None, "deleting an expired item returns None");
    let renewed = ok(t.update(&key("plain"), Update::new().set(TTL, now + 200), None).await, "set a ttl by update");
    assert_eq!(renewed.get(TTL), Some(&json!(now + 200)), "ttl can be set by update");
    clock.advance(Duration::from_secs(100));
    assert_eq!(ok(t.get(&key("plain")).await, "get after the updated ttl"), None, "a ttl set by update applies");
}

async fn concurrent_creates(table: &Arc<dyn ItemTable>, run: &str) {
    let pk = format!("conf#{run}#race");
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let table = table.clone();
            let claim = item(&pk, "only", json!({"winner": i}));
            tokio::spawn(async move { table.put(claim, Some(Cond::NotExists)).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.expect("put task panicked") {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(e) => panic!("concurrent put NotExists: expected Ok or ConditionFailed, got {e:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of 10 concurrent put-if-absent succeeds");
}
