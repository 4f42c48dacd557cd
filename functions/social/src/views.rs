//! What a caller sees of posts, comments and feed entries: with the author's
//! card and, for a signed-in caller, whether they liked it. A list is made
//! in ONE batch read (100 keys a call): the authors' accounts and the
//! caller's like markers together.

use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::accounts::user::User;
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{Item, Key, PK};
use whatif_shared::social::authors::{self, Author};
use whatif_shared::social::comments::Comment;
use whatif_shared::social::feed::FeedScenario;
use whatif_shared::social::likes::{self, Target};
use whatif_shared::social::posts::{self, Post, PostType, Visibility};
use whatif_shared::{ApiResult, UserId, keys};

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// A post as a caller sees it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    pub id: String,
    pub author: Author,
    pub title: String,
    pub content: String,
    #[serde(rename = "type")]
    pub post_type: PostType,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    /// The scenario it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    pub likes: u64,
    /// Comments, replies included.
    pub comments: u64,
    /// Whether the caller liked it (false for anonymous callers).
    pub is_liked: bool,
    /// A moderator hid it: only its author and moderators see it then.
    pub is_hidden: bool,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: String,
}

impl PostView {
    pub fn of(post: &Post, author: Author, is_liked: bool) -> Self {
        PostView {
            id: post.id.clone(),
            author,
            title: post.title.clone(),
            content: post.content.clone(),
            post_type: post.post_type,
            visibility: post.visibility,
            tags: post.tags.clone(),
            scenario_id: post.scenario_id.clone(),
            likes: count(post.likes),
            comments: count(post.comments),
            is_liked,
            is_hidden: post.is_hidden,
            created_at: post.created_at.clone(),
            updated_at: post.updated_at.clone(),
            published_at: post.published_at.clone(),
        }
    }
}

/// A comment as a caller sees it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: String,
    pub post_id: String,
    pub author: Author,
    pub content: String,
    /// The comment it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_comment_id: Option<String>,
    /// The top-level comment of its thread (its own id when it is one).
    pub thread_id: String,
    pub likes: u64,
    /// Whether the caller liked it.
    pub is_liked: bool,
    /// A moderator hid it: only its author and moderators see it then.
    pub is_hidden: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl CommentView {
    pub fn of(comment: &Comment, author: Author, is_liked: bool) -> Self {
        CommentView {
            id: comment.id.clone(),
            post_id: comment.post_id.clone(),
            author,
            content: comment.content.clone(),
            parent_comment_id: comment.parent_comment_id.clone(),
            thread_id: comment.thread_id.clone(),
            likes: count(comment.likes),
            is_liked,
            is_hidden: comment.is_hidden,
            created_at: comment.created_at.clone(),
            updated_at: comment.updated_at.clone(),
        }
    }
}

/// The cards of `authors` and which of `liked` (targets) `viewer` liked, in
/// one batch read per 100 keys.
pub async fn cards_and_likes(
    ctx: &AppContext,
    authors: &[UserId],
    viewer: Option<&UserId>,
    liked: &[(Target, String)],
) -> ApiResult<(HashMap<String, Author>, HashSet<(&'static str, String)>)> {
    let mut unique: Vec<&UserId> = authors.iter().collect();
    unique.sort();
    unique.dedup();
    let mut keys: Vec<Key> = unique.iter().map(|id| keys::user_profile(id)).collect();
    if let Some(viewer) = viewer {
        keys.extend(liked.iter().map(|(target, id)| keys::like(target.name(), id, viewer)));
    }
    let items: Vec<Item> = whatif_shared::ports::table::get_all(ctx.table.as_ref(), &keys).await?;
    let mut cards: HashMap<String, Author> =
        unique.iter().map(|id| (id.to_string(), Author::anonymous(id.as_str()))).collect();
    let mut users = Vec::new();
    let mut markers = Vec::new();
    for item in items {
        if item.get(PK).and_then(Value::as_str).is_some_and(|pk| pk.starts_with("USER#")) {
            if let Ok(user) = User::from_item(item) {
                users.push(user);
            }
        } else {
            markers.push(item);
        }
    }
    for author in futures::future::try_join_all(users.iter().map(|u| authors::card(ctx, u))).await? {
        cards.insert(author.id.clone(), author);
    }
    let mut liked_set = HashSet::new();
    if let Some(viewer) = viewer {
        for target in [Target::Post, Target::Comment] {
            for id in likes::liked_among(&markers, viewer, target) {
                liked_set.insert((target.name(), id));
            }
        }
    }
    Ok((cards, liked_set))
}

/// One post as `viewer` sees it.
pub async fn post(ctx: &AppContext, post: &Post, viewer: Option<&UserId>) -> ApiResult<PostView> {
    let (cards, liked) = cards_and_likes(ctx, &[post.author()], viewer, &[(Target::Post, post.id.clone())]).await?;
    let author = cards.get(&post.author_id).cloned().unwrap_or_else(|| Author::anonymous(&post.author_id));
    Ok(PostView::of(post, author, liked.contains(&("post", post.id.clone()))))
}

/// Comments as `viewer` sees them, in their order.
pub async fn comments(ctx: &AppContext, list: &[Comment], viewer: Option<&UserId>) -> ApiResult<Vec<CommentView>> {
    let authors: Vec<UserId> = list.iter().map(Comment::author).collect();
    let targets: Vec<(Target, String)> = list.iter().map(|c| (Target::Comment, c.id.clone())).collect();
    let (cards, liked) = cards_and_likes(ctx, &authors, viewer, &targets).await?;
    Ok(list
        .iter()
        .map(|c| {
            let author = cards.get(&c.author_id).cloned().unwrap_or_else(|| Author::anonymous(&c.author_id));
            CommentView::of(c, author, liked.contains(&("comment", c.id.clone())))
        })
        .collect())
}

/// What a feed entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    Post,
    Scenario,
}

/// How a trending entry scored: `score = (3·likes + 5·comments + views/10 + 1) / (ageHours + 2)^1.5`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    pub score: f64,
    pub likes: u64,
    pub comments: u64,
    pub views: u64,
    /// Hours since it was published (to the minute).
    pub age_hours: f64,
}

/// One entry of a feed: a post or a public scenario.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedItem {
    pub kind: FeedKind,
    pub id: String,
    pub author: Author,
    pub title: String,
    pub published_at: String,
    pub likes: u64,
    pub comments: u64,
    pub view_count: u64,
    /// Posts: whether the caller liked it (false for anonymous callers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_liked: Option<bool>,
    /// The post, when `kind` is `post`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<PostView>,
    /// The scenario, when `kind` is `scenario`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<FeedScenario>,
    /// Trending only: the score and what made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trending: Option<Score>,
}

/// A feed entry read from the table.
#[derive(Clone, Debug)]
pub enum Entry {
    Post(Post),
    Scenario(FeedScenario),
}

impl Entry {
    /// A feed or activity item: a post, or a public scenario's entry.
    pub fn from_item(item: &Item) -> Option<Entry> {
        if posts::is_post_item(item) {
            Post::from_item(item).map(Entry::Post)
        } else if item.get(PK).and_then(Value::as_str).is_some_and(|pk| pk.starts_with("PUBSCN#")) {
            FeedScenario::from_item(item).map(Entry::Scenario)
        } else {
            None
        }
    }

    /// Its place in the feeds: `<publishedAt>#<id>`.
    pub fn position(&self) -> String {
        match self {
            Entry::Post(p) => p.feed_key(),
            Entry::Scenario(s) => keys::feed_entry(&s.published_at, &s.id).1,
        }
    }

    pub fn published_at(&self) -> &str {
        match self {
            Entry::Post(p) => &p.published_at,
            Entry::Scenario(s) => &s.published_at,
        }
    }

    pub fn author(&self) -> UserId {
        match self {
            Entry::Post(p) => p.author(),
            Entry::Scenario(s) => UserId::from_trusted(s.owner_id.clone()),
        }
    }

    /// (likes, comments, views)
    pub fn counts(&self) -> (u64, u64, u64) {
        match self {
            Entry::Post(p) => (count(p.likes), count(p.comments), 0),
            Entry::Scenario(s) => (0, 0, s.view_count),
        }
    }

    /// Whether it has any of `tags` (scenarios carry none); true for no filter.
    pub fn has_any(&self, tags: &[String]) -> bool {
        tags.is_empty() || matches!(self, Entry::Post(p) if p.tags.iter().any(|t| tags.contains(t)))
    }
}

/// The entries as `viewer` sees them (one batch read for authors and likes).
pub async fn feed_items(
    ctx: &AppContext,
    entries: Vec<(Entry, Option<Score>)>,
    viewer: Option<&UserId>,
) -> ApiResult<Vec<FeedItem>> {
    let authors: Vec<UserId> = entries.iter().map(|(e, _)| e.author()).collect();
    let targets: Vec<(Target, String)> = entries
        .iter()
        .filter_map(|(e, _)| match e {
            Entry::Post(p) => Some((Target::Post, p.id.clone())),
            Entry::Scenario(_) => None,
        })
        .collect();
    let (cards, liked) = cards_and_likes(ctx, &authors, viewer, &targets).await?;
    Ok(entries
        .into_iter()
        .map(|(entry, trending)| {
            let author_id = entry.author();
            let author =
                cards.get(author_id.as_str()).cloned().unwrap_or_else(|| Author::anonymous(author_id.as_str()));
            let (likes, comments, view_count) = entry.counts();
            match entry {
                Entry::Post(p) => {
                    let is_liked = liked.contains(&("post", p.id.clone()));
                    FeedItem {
                        kind: FeedKind::Post,
                        id: p.id.clone(),
                        author: author.clone(),
                        title: p.title.clone(),
                        published_at: p.published_at.clone(),
                        likes,
                        comments,
                        view_count,
                        is_liked: Some(is_liked),
                        post: Some(PostView::of(&p, author, is_liked)),
                        scenario: None,
                        trending,
                    }
                }
                Entry::Scenario(s) => FeedItem {
                    kind: FeedKind::Scenario,
                    id: s.id.clone(),
                    author,
                    title: s.title.clone(),
                    published_at: s.published_at.clone(),
                    likes,
                    comments,
                    view_count,
                    is_liked: None,
                    post: None,
                    scenario: Some(s),
                    trending,
                },
            }
        })
        .collect())
}
