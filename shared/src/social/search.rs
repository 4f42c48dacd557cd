//! Finding profiles by name (`keys::profile_word`): each public profile has
//! one item per folded word of its username and shown name (lower case,
//! diacritics dropped), in the partition of the word's first two characters.
//! A search of `q` reads one partition (its first word's) for words that
//! begin with that word, then keeps the profiles whose words cover every word
//! of `q`. The items are rewritten in the transaction that changes the
//! profile, so a name change or a profile made private shows at once.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::accounts::user::{AccountStatus, User};
use crate::context::AppContext;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{Index, Item, PK, Query, SK, SortKey, TxOp, query_all};
use crate::text;

/// The attribute that holds all of a profile's words, space-separated.
const WORDS: &str = "words";
/// At most this many words of a name are indexed.
const MAX_WORDS: usize = 8;

/// The words `user` is found by: none unless the profile is public and active.
pub fn words_of(user: &User) -> BTreeSet<String> {
    if !user.preferences.public_profile || user.status != AccountStatus::Active {
        return BTreeSet::new();
    }
    let mut words = BTreeSet::new();
    let names = [user.username.clone(), user.public_name()];
    for name in names.iter().flatten() {
        // A username's parts (`lan.nguyen`) and the whole of it both find it.
        let whole = text::fold(name.trim());
        if !whole.contains(' ') && whole.chars().count() >= 2 {
            words.insert(whole.chars().take(40).collect());
        }
        for word in text::words(name).into_iter().filter(|w| w.chars().count() >= 2).take(MAX_WORDS) {
            words.insert(word.chars().take(40).collect());
        }
    }
    words
}

/// The operations that move `user`'s search items from what `before` had to
/// what `after` has (either may be none: a new account, a deleted one).
pub fn index_ops(before: Option<&User>, after: Option<&User>) -> Vec<TxOp> {
    let old = before.map(words_of).unwrap_or_default();
    let new = after.map(words_of).unwrap_or_default();
    let Some(user) = after.or(before) else { return Vec::new() };
    let id = UserId::from_trusted(user.id.clone());
    let all: Vec<&str> = new.iter().map(String::as_str).collect();
    let mut ops: Vec<TxOp> =
        old.difference(&new).map(|word| TxOp::Delete { key: keys::profile_word(word, &id), cond: None }).collect();
    if old != new {
        for word in &new {
            let key = keys::profile_word(word, &id);
            let mut item = Item::new();
            item.insert(PK.into(), json!(key.pk));
            item.insert(SK.into(), json!(key.sk));
            item.insert("userId".into(), json!(id.as_str()));
            item.insert(WORDS.into(), json!(all.join(" ")));
            ops.push(TxOp::Put { item, cond: None });
        }
    }
    ops
}

/// The accounts whose words begin with every word of `q` (folded), at most
/// `cap`, ordered by how closely they match (a whole word first), then by id.
pub async fn find(ctx: &AppContext, q: &str, cap: usize) -> ApiResult<Vec<UserId>> {
    let wanted = text::words(q);
    let Some(first) = wanted.iter().max_by_key(|w| w.chars().count()).filter(|w| w.chars().count() >= 2) else {
        return Ok(Vec::new());
    };
    let query = Query::partition(Index::Primary, keys::profile_words(first)).sk(SortKey::BeginsWith(first.to_string()));
    let items = query_all(ctx.table.as_ref(), query, 5_000).await?;
    let mut found: Vec<(bool, String)> = Vec::new();
    for item in &items {
        let (Some(user), Some(words)) =
            (item.get("userId").and_then(Value::as_str), item.get(WORDS).and_then(Value::as_str))
        else {
            continue;
        };
        let words: Vec<&str> = words.split(' ').collect();
        if !wanted.iter().all(|w| words.iter().any(|have| have.starts_with(w.as_str()))) {
            continue;
        }
        if found.iter().any(|(_, id)| id == user) {
            continue;
        }
        let exact = wanted.iter().all(|w| words.contains(&w.as_str()));
        found.push((!exact, user.to_string()));
    }
    found.sort();
    Ok(found.into_iter().take(cap).map(|(_, id)| UserId::from_trusted(id)).collect())
}
