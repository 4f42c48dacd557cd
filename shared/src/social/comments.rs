//! Comments (`keys::comment`): on a post, in threads. A top-level comment
//! starts a thread (its `threadId` is its own id); a reply belongs to the
//! thread of the comment it answers (a reply to a reply keeps the comment it
//! answered as `parentCommentId`, and joins the same thread), so a post's
//! comments read as threads, each followed by its replies, in one forward
//! query of GSI1.
//!
//! Counters: a comment adds one to its author's `comments`, to its post's
//! `comments` (and `threads` for a top-level one) and to its thread's
//! `replies` (for a reply), in the transaction that writes it; removing it
//! takes back exactly that. A comment is visible where its post is, unless a
//! moderator hid it (then to its author and moderators alone).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{
    Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, SortKey, TxOp, Update, query_all,
};
use crate::social::notify::{self, Kind, Notice};
use crate::social::posts::{self, MAX_TRIES, Post, Viewer, transact};
use crate::social::stats::{self, Counter};
use crate::social::{backoff, likes};

pub const MAX_CONTENT_CHARS: usize = 1000;

/// A comment as stored (without its keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    pub post_id: String,
    pub author_id: String,
    pub content: String,
    /// The comment it answers (absent for a top-level comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_comment_id: Option<String>,
    /// The top-level comment of its thread (its own id when it is one).
    pub thread_id: String,
    #[serde(default)]
    pub likes: i64,
    /// Replies in its thread (top-level comments only).
    #[serde(default)]
    pub replies: i64,
    /// Hidden by a moderator. Never set by a client.
    #[serde(default)]
    pub is_hidden: bool,
    #[serde(default)]
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl Comment {
    pub fn author(&self) -> UserId {
        UserId::from_trusted(self.author_id.clone())
    }

    pub fn is_top_level(&self) -> bool {
        self.thread_id == self.id
    }

    pub fn from_item(item: &Item) -> Option<Comment> {
        let mut fields = item.clone();
        fields.retain(|attr, _| !matches!(attr.as_str(), PK | SK | GSI1_PK | GSI1_SK | GSI2_PK | GSI2_SK));
        serde_json::from_value(Value::Object(fields)).ok()
    }

    pub fn to_item(&self) -> ApiResult<Item> {
        let Value::Object(mut item) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("a comment does not serialise to an object"));
        };
        let key = keys::comment(&self.id);
        let (t_pk, t_sk) = keys::comment_in_post(&self.post_id, &self.thread_id, &self.id);
        let (b_pk, b_sk) = keys::comment_by_author(&self.author(), &self.id);
        for (attr, value) in
            [(PK, key.pk), (SK, key.sk), (GSI1_PK, t_pk), (GSI1_SK, t_sk), (GSI2_PK, b_pk), (GSI2_SK, b_sk)]
        {
            item.insert(attr.into(), json!(value));
        }
        Ok(item)
    }
}

/// A comment is visible where its post is (`post_visible`, by
/// [`posts::visible_given`]), unless hidden: then to its author and
/// moderators alone.
pub fn visible_given(comment: &Comment, post_visible: bool, viewer: Option<&Viewer>) -> bool {
    post_visible
        && (!comment.is_hidden || viewer.is_some_and(|v| v.id.as_str() == comment.author_id || v.is_moderator()))
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Comment")
}

pub async fn get(ctx: &AppContext, comment_id: &str) -> ApiResult<Option<Comment>> {
    Ok(ctx.table.get(&keys::comment(comment_id)).await?.as_ref().and_then(Comment::from_item))
}

/// The comment and its post when `viewer` may see both; 404 otherwise.
pub async fn get_visible(ctx: &AppContext, comment_id: &str, viewer: Option<&Viewer>) -> ApiResult<(Comment, Post)> {
    let Some(comment) = get(ctx, comment_id).await? else { return Err(not_found()) };
    let post = posts::get_visible(ctx, &comment.post_id, viewer).await.map_err(|_| not_found())?;
    if !visible_given(&comment, true, viewer) {
        return Err(not_found());
    }
    Ok((comment, post))
}

pub fn content(raw: &str) -> ApiResult<String> {
    posts::required_text("content", raw, MAX_CONTENT_CHARS)
}

/// Writes a comment of `author` on `post` (a reply when `parent` is given),
/// with every counter it adds to, in one transaction (404 when the post or
/// the thread went meanwhile); then notifies: the post's author of a
/// comment, the parent comment's author of a reply (and the post's author
/// too, when someone else). Never for one's own action.
pub async fn create(
    ctx: &AppContext,
    author: &UserId,
    post: &Post,
    parent: Option<&Comment>,
    content: String,
) -> ApiResult<Comment> {
    let now = rfc3339(ctx.clock.now());
    let id = ctx.ids.ulid().to_string();
    let comment = Comment {
        thread_id: parent.map_or_else(|| id.clone(), |p| p.thread_id.clone()),
        id,
        post_id: post.id.clone(),
        author_id: author.to_string(),
        content,
        parent_comment_id: parent.map(|p| p.id.clone()),
        likes: 0,
        replies: 0,
        is_hidden: false,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    let mut on_post = Update::new().add("comments", 1);
    if comment.is_top_level() {
        on_post = on_post.add("threads", 1);
    }
    let mut ops = vec![
        TxOp::Put { item: comment.to_item()?, cond: Some(Cond::NotExists) },
        TxOp::Update { key: keys::post(&post.id), update: on_post, cond: Some(Cond::Exists) },
        stats::add(author, Counter::Comments, 1),
    ];
    if !comment.is_top_level() {
        let thread = keys::comment(&comment.thread_id);
        ops.push(TxOp::Update { key: thread, update: Update::new().add("replies", 1), cond: Some(Cond::Exists) });
    }
    match transact(ctx, ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => {
            return Err(if failed.contains(&1) { posts::not_found() } else { not_found() });
        }
        Err(e) => return Err(e.into()),
    }
    stats::after_change(ctx, author).await;
    let excerpt = Some(comment.content.clone());
    let notice = |kind| Notice {
        kind,
        actor: Some(author.clone()),
        target_type: if kind == Kind::Reply { "comment" } else { "post" },
        target_id: if kind == Kind::Reply { comment.id.clone() } else { post.id.clone() },
        post_id: Some(post.id.clone()),
        text: excerpt.clone(),
    };
    match parent {
        None => notify::send(ctx, &post.author(), notice(Kind::Comment)).await,
        Some(parent) => {
            notify::send(ctx, &parent.author(), notice(Kind::Reply)).await;
            if parent.author_id != post.author_id {
                notify::send(ctx, &post.author(), notice(Kind::Comment)).await;
            }
        }
    }
    Ok(comment)
}

/// The author's edit of the text, conditional on the version read (409
/// `VERSION_MISMATCH` when a moderator or another edit came first).
pub async fn update(ctx: &AppContext, comment: &Comment, content: String) -> ApiResult<Comment> {
    let mut after = comment.clone();
    after.content = content;
    after.version = comment.version + 1;
    after.updated_at = rfc3339(ctx.clock.now());
    let update = Update::new()
        .set("content", after.content.as_str())
        .set("version", after.version)
        .set("updatedAt", after.updated_at.as_str());
    save(ctx, comment, update).await?;
    Ok(after)
}

async fn save(ctx: &AppContext, before: &Comment, update: Update) -> ApiResult<()> {
    let cond = Cond::And(vec![Cond::Exists, Cond::eq("version", before.version)]);
    match ctx.table.update(&keys::comment(&before.id), update, Some(cond)).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(ApiError::conflict(
            "VERSION_MISMATCH",
            "The comment was changed by another request; reload it and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Hides a comment (a moderator's decision) or shows it again. A hidden
/// top-level comment hides its thread from everyone but its author and
/// moderators. 404 when there is no such comment.
pub async fn set_hidden(ctx: &AppContext, comment_id: &str, hidden: bool) -> ApiResult<Comment> {
    for attempt in 0..MAX_TRIES {
        let Some(comment) = get(ctx, comment_id).await? else { return Err(not_found()) };
        if comment.is_hidden == hidden {
            return Ok(comment);
        }
        let mut after = comment.clone();
        after.is_hidden = hidden;
        after.version = comment.version + 1;
        after.updated_at = rfc3339(ctx.clock.now());
        let update = Update::new()
            .set("isHidden", hidden)
            .set("version", after.version)
            .set("updatedAt", after.updated_at.as_str());
        match save(ctx, &comment, update).await {
            Ok(()) => return Ok(after),
            Err(e) if e.code == "VERSION_MISMATCH" => backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict("CONFLICT", "The comment keeps changing, try again"))
}

/// What else a removal takes back besides the author's `comments`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Also {
    /// The post is gone (its deletion removes its comments): nothing.
    Nothing,
    /// The post's `comments` (and `threads`), and the thread's `replies`
    /// while the thread's top-level comment stays.
    Counts,
    /// The post's `comments` only (the replies of a thread being removed).
    PostOnly,
}

/// Removes one comment with the counters it added to and then its likes
/// (each liker's marker, and its author's `likesReceived`). A counter whose
/// item is gone meanwhile is left out. Returns the accounts whose counters
/// changed (none when the comment was gone already).
pub async fn remove(ctx: &AppContext, comment: &Comment, also: Also) -> ApiResult<BTreeSet<UserId>> {
    let author = comment.author();
    let mut on_post = also != Also::Nothing;
    let mut on_thread = also == Also::Counts && !comment.is_top_level();
    loop {
        let mut ops = vec![
            TxOp::Delete { key: keys::comment(&comment.id), cond: Some(Cond::Exists) },
            stats::add(&author, Counter::Comments, -1),
        ];
        let post_at = on_post.then(|| {
            let mut update = Update::new().add("comments", -1);
            if comment.is_top_level() {
                update = update.add("threads", -1);
            }
            ops.push(TxOp::Update { key: keys::post(&comment.post_id), update, cond: Some(Cond::Exists) });
            ops.len() - 1
        });
        let thread_at = on_thread.then(|| {
            let update = Update::new().add("replies", -1);
            ops.push(TxOp::Update { key: keys::comment(&comment.thread_id), update, cond: Some(Cond::Exists) });
            ops.len() - 1
        });
        match transact(ctx, ops).await {
            Ok(()) => break,
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => return Ok(BTreeSet::new()),
            Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => {
                // The post or the thread went meanwhile: nothing to count there.
                on_post &= !post_at.is_some_and(|at| failed.contains(&at));
                on_thread &= !thread_at.is_some_and(|at| failed.contains(&at));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut touched = BTreeSet::from([author.clone()]);
    touched.extend(likes::clear_target(ctx, likes::Target::Comment, &comment.id, &author).await?);
    Ok(touched)
}

/// Deletes a comment (its author's or a moderator's decision): a top-level
/// comment takes its replies with it. The comment goes first, so no reply
/// can join its thread meanwhile (a reply is written only while its thread
/// exists). Every account whose counters changed is refreshed.
pub async fn delete(ctx: &AppContext, comment: &Comment) -> ApiResult<()> {
    let mut touched = remove(ctx, comment, Also::Counts).await?;
    if touched.is_empty() {
        return Err(not_found());
    }
    if comment.is_top_level() {
        let query = Query::partition(Index::Gsi1, keys::comments_of_post(&comment.post_id))
            .sk(SortKey::BeginsWith(format!("{}#", comment.id)));
        for item in query_all(ctx.table.as_ref(), query, usize::MAX).await? {
            if let Some(reply) = Comment::from_item(&item) {
                touched.extend(remove(ctx, &reply, Also::PostOnly).await?);
            }
        }
    }
    for user in &touched {
        stats::after_change(ctx, user).await;
    }
    Ok(())
}

/// The most comment items one page of threads reads.
pub const MAX_READ: usize = 5000;

/// One page of a post's threads: each top-level comment with its replies,
/// oldest first; `keep` leaves out what the viewer may not see (a thread
/// whose top-level comment is left out goes whole). `after` is the last
/// thread of the previous page (a cursor); otherwise `skip` threads are
/// passed over (a page number). Returns the threads and whether more follow.
pub async fn threads(
    ctx: &AppContext,
    post_id: &str,
    after: Option<&str>,
    skip: usize,
    limit: usize,
    keep: impl Fn(&Comment) -> bool,
) -> ApiResult<(Vec<(Comment, Vec<Comment>)>, bool)> {
    let mut query = Query::partition(Index::Gsi1, keys::comments_of_post(post_id)).limit(200);
    if let Some(after) = after {
        query = query.sk(SortKey::Gt(keys::comment_thread_end(after)));
    }
    let mut out: Vec<(Comment, Vec<Comment>)> = Vec::new();
    let (mut read, mut skipped) = (0usize, 0usize);
    let mut current: Option<(Comment, Vec<Comment>)> = None;
    let mut more = false;
    'pages: loop {
        let page = ctx.table.query(&query).await?;
        read += page.items.len();
        for item in &page.items {
            let Some(comment) = Comment::from_item(item) else { continue };
            if comment.is_top_level() {
                if let Some(done) = current.take() {
                    out.push(done);
                }
                if !keep(&comment) {
                    continue;
                }
                if skipped < skip {
                    skipped += 1;
                    continue;
                }
                if out.len() == limit {
                    more = true;
                    break 'pages;
                }
                current = Some((comment, Vec::new()));
            } else if let Some((top, replies)) = current.as_mut()
                && top.id == comment.thread_id
                && keep(&comment)
            {
                replies.push(comment);
            }
        }
        match page.next {
            Some(next) if read < MAX_READ => query = query.start(Some(next)),
            Some(_) => {
                more = true;
                break;
            }
            None => break,
        }
    }
    if let Some(done) = current.take() {
        out.push(done);
    }
    out.truncate(limit);
    Ok((out, more))
}

/// Every comment of `author`, oldest first (GSI2).
pub async fn of_author(ctx: &AppContext, author: &UserId) -> ApiResult<Vec<Comment>> {
    let query = Query::partition(Index::Gsi2, keys::comments_by(author));
    Ok(query_all(ctx.table.as_ref(), query, usize::MAX).await?.iter().filter_map(Comment::from_item).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn replies_sort_right_after_their_thread() {
        let (_, top) = keys::comment_in_post("P", "01B", "01B");
        let (_, reply) = keys::comment_in_post("P", "01B", "01C");
        let (_, next) = keys::comment_in_post("P", "01Z", "01Z");
        let end = keys::comment_thread_end("01B");
        assert!(top < reply && reply < end && end < next, "{top} {reply} {end} {next}");
    }

    #[test]
    fn a_hidden_comment_is_its_author_s_and_moderators_alone() {
        let comment = Comment {
            id: "C".into(),
            post_id: "P".into(),
            author_id: "A".into(),
            content: "hi".into(),
            parent_comment_id: None,
            thread_id: "C".into(),
            likes: 0,
            replies: 0,
            is_hidden: true,
            version: 1,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let who = |id: &str, role| Viewer { id: UserId::from_trusted(id), role };
        assert!(!visible_given(&comment, true, None));
        assert!(!visible_given(&comment, true, Some(&who("S", Role::User))));
        assert!(visible_given(&comment, true, Some(&who("A", Role::User))));
        assert!(visible_given(&comment, true, Some(&who("M", Role::Moderator))));
        assert!(!visible_given(&comment, false, Some(&who("A", Role::User))), "never where its post is not");
        assert_eq!(Comment::from_item(&comment.to_item().unwrap()), Some(comment));
    }
}
