//! Posts (`keys::post`): what an account publishes to the feeds, with its
//! visibility, and the one rule of who sees what ([`visible_given`]).
//!
//! A post is always in its author's activity (GSI1, any visibility: the
//! following feed and profiles filter it), and in the public feed (GSI2) only
//! while it is public and not hidden, so the public feed's partition holds
//! public content alone. `likes`, `comments` and `threads` change only by
//! atomic ADD in the transaction that makes or removes what they count; the
//! author's `posts` counter is added to in the transaction that writes or
//! deletes the post. The moderation service hides posts through
//! [`set_hidden`]; deletion ([`delete`]) takes the post's comments and likes
//! with it and corrects every counter they touched.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::table::{
    Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, TxOp, Update, query_all,
};
use crate::ports::{StoreError, StoreResult};
use crate::social::stats::{self, Counter};
use crate::social::{backoff, comments, follows, likes};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_CONTENT_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 30;

/// What a post is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostType {
    Scenario,
    Achievement,
    Milestone,
    Custom,
}

/// Who may see a post (besides its author and moderators).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone, signed in or not; in the public feeds.
    Public,
    /// The accounts that follow the author.
    Followers,
    /// The author alone.
    Private,
}

/// A post as stored (without its keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub id: String,
    pub author_id: String,
    pub title: String,
    pub content: String,
    #[serde(rename = "type")]
    pub post_type: PostType,
    pub visibility: Visibility,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// Likes (by atomic ADD; read below zero as zero).
    #[serde(default)]
    pub likes: i64,
    /// Comments, replies included.
    #[serde(default)]
    pub comments: i64,
    /// Top-level comments (threads): the comment list's total.
    #[serde(default)]
    pub threads: i64,
    /// Hidden by a moderator: gone for everyone but its author and moderators.
    /// Never set by a client.
    #[serde(default)]
    pub is_hidden: bool,
    /// Bumped by every edit and moderation; edits are conditional on it.
    #[serde(default)]
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Its place in the feeds (the time it was created).
    pub published_at: String,
}

impl Post {
    pub fn author(&self) -> UserId {
        UserId::from_trusted(self.author_id.clone())
    }

    /// Whether it belongs in the public feed: public and not hidden.
    pub fn is_listed(&self) -> bool {
        self.visibility == Visibility::Public && !self.is_hidden
    }

    /// Its sort key in the feeds and its author's activity: `<publishedAt>#<id>`.
    pub fn feed_key(&self) -> String {
        keys::feed_entry(&self.published_at, &self.id).1
    }

    /// Reads a post item (`None` when it is not one).
    pub fn from_item(item: &Item) -> Option<Post> {
        let mut fields = item.clone();
        fields.retain(|attr, _| !matches!(attr.as_str(), PK | SK | GSI1_PK | GSI1_SK | GSI2_PK | GSI2_SK));
        serde_json::from_value(Value::Object(fields)).ok()
    }

    /// The whole item, with its keys: GSI2 only while listed.
    pub fn to_item(&self) -> ApiResult<Item> {
        let Value::Object(mut item) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("a post does not serialise to an object"));
        };
        let key = keys::post(&self.id);
        let (a_pk, a_sk) = keys::activity_entry(&self.author(), &self.published_at, &self.id);
        for (attr, value) in [(PK, key.pk), (SK, key.sk), (GSI1_PK, a_pk), (GSI1_SK, a_sk)] {
            item.insert(attr.into(), json!(value));
        }
        if self.is_listed() {
            let (f_pk, f_sk) = keys::feed_entry(&self.published_at, &self.id);
            item.insert(GSI2_PK.into(), json!(f_pk));
            item.insert(GSI2_SK.into(), json!(f_sk));
        }
        Ok(item)
    }
}

/// Whether an item of the feeds or an activity partition is a post.
pub fn is_post_item(item: &Item) -> bool {
    item.get(PK).and_then(Value::as_str).is_some_and(|pk| pk.starts_with("POST#"))
}

/// Who is looking: a signed-in caller and their role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub id: UserId,
    pub role: Role,
}

impl Viewer {
    pub fn of(principal: Option<&Principal>) -> Option<Viewer> {
        principal.map(|p| Viewer { id: p.id(), role: p.role })
    }

    /// Moderators and admins see hidden and non-public content, and may delete it.
    pub fn is_moderator(&self) -> bool {
        self.role >= Role::Moderator
    }

    fn is(&self, user: &str) -> bool {
        self.id.as_str() == user
    }
}

/// THE visibility rule, used by every read path: a post is visible to its
/// author and to moderators; to anyone else only when it is not hidden and
/// public, or followers-only and the viewer follows the author
/// (`follows_author`); a private post to nobody else. What is not visible is
/// a 404, never a 403.
pub fn visible_given(post: &Post, viewer: Option<&Viewer>, follows_author: bool) -> bool {
    if viewer.is_some_and(|v| v.is(&post.author_id) || v.is_moderator()) {
        return true;
    }
    if post.is_hidden {
        return false;
    }
    match post.visibility {
        Visibility::Public => true,
        Visibility::Followers => viewer.is_some() && follows_author,
        Visibility::Private => false,
    }
}

/// Whether the rule needs to know if the viewer follows the author.
fn needs_follow(post: &Post, viewer: Option<&Viewer>) -> bool {
    post.visibility == Visibility::Followers
        && !post.is_hidden
        && viewer.is_some_and(|v| !v.is(&post.author_id) && !v.is_moderator())
}

/// [`visible_given`], reading whether the viewer follows the author when it matters.
pub async fn is_visible(ctx: &AppContext, post: &Post, viewer: Option<&Viewer>) -> ApiResult<bool> {
    let follows_author = match viewer {
        Some(v) if needs_follow(post, viewer) => follows::is_following(ctx, &v.id, &post.author()).await?,
        _ => false,
    };
    Ok(visible_given(post, viewer, follows_author))
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Post")
}

/// The post with this id (strongly consistent), whoever may see it.
pub async fn get(ctx: &AppContext, post_id: &str) -> ApiResult<Option<Post>> {
    Ok(ctx.table.get(&keys::post(post_id)).await?.as_ref().and_then(Post::from_item))
}

/// The post with this id when `viewer` may see it; 404 otherwise.
pub async fn get_visible(ctx: &AppContext, post_id: &str, viewer: Option<&Viewer>) -> ApiResult<Post> {
    match get(ctx, post_id).await? {
        Some(post) if is_visible(ctx, &post, viewer).await? => Ok(post),
        _ => Err(not_found()),
    }
}

// ---- validation ----------------------------------------------------------------

/// A required text: trimmed, 1..=`max` characters, no control characters
/// but line breaks.
pub fn required_text(field: &str, raw: &str, max: usize) -> ApiResult<String> {
    let value = crate::accounts::types::text(field, raw, max)?;
    if value.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    Ok(value)
}

/// A title: one line of 1–200 characters.
pub fn title(raw: &str) -> ApiResult<String> {
    let value = required_text("title", raw, MAX_TITLE_CHARS)?;
    if value.contains('\n') {
        return Err(ApiError::validation("title", "must be one line"));
    }
    Ok(value)
}

pub fn content(raw: &str) -> ApiResult<String> {
    required_text("content", raw, MAX_CONTENT_CHARS)
}

/// Tags: at most 10, each 1–30 characters once trimmed, as the caller typed
/// them, without commas (the feed filter's separator); kept folded (lower
/// case, no accents), each once. Folding may change a tag's length (a Hangul
/// syllable is three letters once decomposed), so the limit counts what was
/// typed; a tag of accents alone folds to nothing and is refused.
pub fn tags(raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_TAGS {
        return Err(ApiError::validation("tags", format!("must be at most {MAX_TAGS} tags")));
    }
    let mut out: Vec<String> = Vec::new();
    for tag in raw {
        let typed = tag.trim();
        let chars = typed.chars().count();
        if chars == 0 || chars > MAX_TAG_CHARS {
            return Err(ApiError::validation("tags", format!("each tag must be 1 to {MAX_TAG_CHARS} characters")));
        }
        if typed.chars().any(|c| c.is_control() || c == ',') {
            return Err(ApiError::validation("tags", "a tag must not contain commas or control characters"));
        }
        let folded = crate::text::fold(typed);
        if folded.trim().is_empty() {
            return Err(ApiError::validation("tags", "a tag must hold more than accents"));
        }
        if !out.contains(&folded) {
            out.push(folded);
        }
    }
    Ok(out)
}

/// A `tags` filter of the feeds: comma-separated, each folded and trimmed.
pub fn tag_filter(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| r.split(',').map(|t| crate::text::fold(t.trim())).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default()
}

// ---- writes ----------------------------------------------------------------------

/// How many times a transaction that lost a race (DynamoDB cancels
/// concurrent transactions on one item) is tried.
pub const MAX_TRIES: u32 = 16;

/// Runs `ops` as one transaction, again after a short pause while DynamoDB
/// cancels it for a conflict with another transaction (no failed condition);
/// a failed condition is returned as it is.
pub async fn transact(ctx: &AppContext, ops: Vec<TxOp>) -> StoreResult<()> {
    let mut attempt = 0;
    loop {
        match ctx.table.transact(ops.clone()).await {
            Err(StoreError::TransactionCanceled { failed }) if failed.is_empty() && attempt + 1 < MAX_TRIES => {
                backoff(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A new post, before it is written.
#[derive(Clone, Debug)]
pub struct NewPost {
    pub title: String,
    pub content: String,
    pub post_type: PostType,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    pub scenario_id: Option<String>,
}

/// Writes a new post of `author` with one more on the author's `posts`, in
/// one transaction; then the author's leaderboards and achievements follow.
pub async fn create(ctx: &AppContext, author: &UserId, new: NewPost) -> ApiResult<Post> {
    let now = rfc3339(ctx.clock.now());
    let post = Post {
        id: ctx.ids.ulid().to_string(),
        author_id: author.to_string(),
        title: new.title,
        content: new.content,
        post_type: new.post_type,
        visibility: new.visibility,
        tags: new.tags,
        scenario_id: new.scenario_id,
        likes: 0,
        comments: 0,
        threads: 0,
        is_hidden: false,
        version: 1,
        created_at: now.clone(),
        updated_at: now.clone(),
        published_at: now,
    };
    let ops =
        vec![TxOp::Put { item: post.to_item()?, cond: Some(Cond::NotExists) }, stats::add(author, Counter::Posts, 1)];
    transact(ctx, ops).await?;
    stats::after_change(ctx, author).await;
    Ok(post)
}

/// What an edit may change (the author's whitelist); `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct PostChanges {
    pub title: Option<String>,
    pub content: Option<String>,
    pub post_type: Option<PostType>,
    pub visibility: Option<Visibility>,
    pub tags: Option<Vec<String>>,
}

/// Applies `changes` to `post` as read: conditional on its `version`, so an
/// edit never overwrites a moderator's hiding or another edit (409
/// `VERSION_MISMATCH`). The public-feed keys follow the visibility.
pub async fn update(ctx: &AppContext, post: &Post, changes: PostChanges) -> ApiResult<Post> {
    let mut after = post.clone();
    if let Some(title) = changes.title {
        after.title = title;
    }
    if let Some(content) = changes.content {
        after.content = content;
    }
    if let Some(post_type) = changes.post_type {
        after.post_type = post_type;
    }
    if let Some(visibility) = changes.visibility {
        after.visibility = visibility;
    }
    if let Some(tags) = changes.tags {
        after.tags = tags;
    }
    after.updated_at = rfc3339(ctx.clock.now());
    after.version = post.version + 1;
    let update = Update::new()
        .set("title", after.title.as_str())
        .set("content", after.content.as_str())
        .set("type", json!(after.post_type))
        .set("visibility", json!(after.visibility))
        .set("tags", json!(after.tags))
        .set("updatedAt", after.updated_at.as_str())
        .set("version", after.version);
    save(ctx, post, &after, update).await?;
    Ok(after)
}

/// Writes `update` (plus the public-feed keys `after` calls for) on the post
/// read as `before`, conditional on its version.
async fn save(ctx: &AppContext, before: &Post, after: &Post, mut update: Update) -> ApiResult<Item> {
    if after.is_listed() {
        let (f_pk, f_sk) = keys::feed_entry(&after.published_at, &after.id);
        update = update.set(GSI2_PK, f_pk).set(GSI2_SK, f_sk);
    } else {
        update = update.remove(GSI2_PK).remove(GSI2_SK);
    }
    let cond = Cond::And(vec![Cond::Exists, Cond::eq("version", before.version)]);
    match ctx.table.update(&keys::post(&before.id), update, Some(cond)).await {
        Ok(item) => Ok(item),
        Err(StoreError::ConditionFailed) => Err(ApiError::conflict(
            "VERSION_MISMATCH",
            "The post was changed by another request; reload it and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Hides a post (a moderator's decision) or shows it again: out of the
/// public feed and every list for everyone but its author and moderators
/// while hidden. Retries when an edit lands meanwhile; 404 when there is no
/// such post.
pub async fn set_hidden(ctx: &AppContext, post_id: &str, hidden: bool) -> ApiResult<Post> {
    for attempt in 0..MAX_TRIES {
        let Some(post) = get(ctx, post_id).await? else { return Err(not_found()) };
        if post.is_hidden == hidden {
            return Ok(post);
        }
        let mut after = post.clone();
        after.is_hidden = hidden;
        after.version = post.version + 1;
        after.updated_at = rfc3339(ctx.clock.now());
        let update = Update::new()
            .set("isHidden", hidden)
            .set("version", after.version)
            .set("updatedAt", after.updated_at.as_str());
        match save(ctx, &post, &after, update).await {
            Ok(_) => return Ok(after),
            Err(e) if e.code == "VERSION_MISMATCH" => backoff(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict("CONFLICT", "The post keeps changing, try again"))
}

/// Deletes a post: the post with one less on its author's `posts` (one
/// transaction; 404 when it is gone already), then its comments (each with
/// its likes, every counter corrected) and its likes (the likers' markers,
/// and the author's `likesReceived`). The post goes first, so nothing new
/// can attach to it meanwhile: a like or a comment is written only on a post
/// (or comment) that exists. Every account whose counters changed has its
/// leaderboards and achievements refreshed.
pub async fn delete(ctx: &AppContext, post: &Post) -> ApiResult<()> {
    let author = post.author();
    let ops = vec![
        TxOp::Delete { key: keys::post(&post.id), cond: Some(Cond::Exists) },
        stats::add(&author, Counter::Posts, -1),
    ];
    match transact(ctx, ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed | StoreError::TransactionCanceled { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    let mut touched: BTreeSet<UserId> = BTreeSet::from([author.clone()]);
    touched.extend(clear_dependents(ctx, post).await?);
    for user in &touched {
        stats::after_change(ctx, user).await;
    }
    tracing::info!(post_id = %post.id, accounts = touched.len(), "deleted a post with its comments and likes");
    Ok(())
}

/// Removes what hangs on a deleted post: its comments (with their likes)
/// and its likes. Returns the accounts whose counters changed.
async fn clear_dependents(ctx: &AppContext, post: &Post) -> ApiResult<BTreeSet<UserId>> {
    let mut touched = BTreeSet::new();
    let query = Query::partition(Index::Gsi1, keys::comments_of_post(&post.id));
    for item in query_all(ctx.table.as_ref(), query, usize::MAX).await? {
        if let Some(comment) = comments::Comment::from_item(&item) {
            touched.extend(comments::remove(ctx, &comment, comments::Also::Nothing).await?);
        }
    }
    touched.extend(likes::clear_target(ctx, likes::Target::Post, &post.id, &post.author()).await?);
    Ok(touched)
}

/// Every post of `author`, any visibility, newest first (its activity).
pub async fn of_author(ctx: &AppContext, author: &UserId) -> ApiResult<Vec<Post>> {
    let query = Query::partition(Index::Gsi1, keys::activity_of(author)).backward();
    let items = query_all(ctx.table.as_ref(), query, usize::MAX).await?;
    Ok(items.iter().filter(|i| is_post_item(i)).filter_map(Post::from_item).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(visibility: Visibility, hidden: bool) -> Post {
        Post {
            id: "01P".into(),
            author_id: "A".into(),
            title: "t".into(),
            content: "c".into(),
            post_type: PostType::Custom,
            visibility,
            tags: vec![],
            scenario_id: None,
            likes: 0,
            comments: 0,
            threads: 0,
            is_hidden: hidden,
            version: 1,
            created_at: "2026-12-01T00:00:00.000Z".into(),
            updated_at: "2026-12-01T00:00:00.000Z".into(),
            published_at: "2026-12-01T00:00:00.000Z".into(),
        }
    }

    fn viewer(id: &str, role: Role) -> Viewer {
        Viewer { id: UserId::from_trusted(id), role }
    }

    #[test]
    fn the_rule_of_who_sees_a_post() {
        let author = viewer("A", Role::User);
        let stranger = viewer("S", Role::User);
        let moderator = viewer("M", Role::Moderator);
        for (visibility, hidden, anon, stranger_sees, follower_sees) in [
            (Visibility::Public, false, true, true, true),
            (Visibility::Followers, false, false, false, true),
            (Visibility::Private, false, false, false, false),
            (Visibility::Public, true, false, false, false),
            (Visibility::Followers, true, false, false, false),
        ] {
            let p = post(visibility, hidden);
            assert_eq!(visible_given(&p, None, false), anon, "{visibility:?} {hidden}");
            assert_eq!(visible_given(&p, Some(&stranger), false), stranger_sees, "{visibility:?} {hidden}");
            assert_eq!(visible_given(&p, Some(&stranger), true), follower_sees, "{visibility:?} {hidden}");
            assert!(visible_given(&p, Some(&author), false), "the author always");
            assert!(visible_given(&p, Some(&moderator), false), "moderators always");
        }
    }

    #[test]
    fn only_listed_posts_carry_the_public_feed_keys() {
        let public = post(Visibility::Public, false).to_item().unwrap();
        assert_eq!(public[GSI2_PK], keys::FEED);
        assert_eq!(public[GSI1_PK], "ACTIVITY#A");
        for p in [post(Visibility::Followers, false), post(Visibility::Private, false), post(Visibility::Public, true)]
        {
            let item = p.to_item().unwrap();
            assert!(!item.contains_key(GSI2_PK) && item.contains_key(GSI1_PK), "{item:?}");
            assert_eq!(Post::from_item(&item), Some(p));
        }
    }

    #[test]
    fn tags_are_folded_trimmed_and_bounded() {
        let raw = vec![" Lịch Sử ".to_string(), "lich su".into(), "Space".into()];
        assert_eq!(tags(&raw).unwrap(), vec!["lich su", "space"]);
        assert!(tags(&["".into()]).is_err());
        assert!(tags(&["a,b".into()]).is_err());
        assert!(tags(&["x".repeat(31)]).is_err());
        // The limit counts what was typed: 30 Hangul syllables fold to 90 letters.
        assert_eq!(tags(&["핵".repeat(30)]).unwrap()[0].chars().count(), 90);
        assert!(tags(&["핵".repeat(31)]).is_err());
        // Accents alone fold to nothing.
        assert!(tags(&["\u{301}\u{301}".into()]).is_err());
        assert!(tags(&[" \t".into()]).is_err());
        assert!(tags(&(0..11).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
        assert_eq!(tag_filter(Some(" Space, ,HISTORY")), vec!["space", "history"]);
        assert!(title("   ").is_err() && title("a\nb").is_err() && title(&"x".repeat(201)).is_err());
        assert_eq!(title("  Hello ").unwrap(), "Hello");
    }
}
