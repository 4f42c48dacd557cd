//! `GET /api/social/comments/post/{postId}`: a post's comments, by thread
//! (each top-level comment, oldest first, followed by its replies), a page
//! of threads at a time: `page`/`limit` (with the post's number of threads
//! as `total`) or `cursor`. Hidden comments are left out for everyone but
//! their author and moderators (a hidden top-level comment takes its
//! thread). A post the caller may not see is a 404.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination, encode_cursor};
use whatif_shared::ports::table::Item;
use whatif_shared::social::comments::{self, Comment};
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::views::{self, CommentView};

/// A thread: its top-level comment and the replies, oldest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Thread {
    pub comment: CommentView,
    pub replies: Vec<CommentView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommentsPage {
    pub comments: Vec<Thread>,
    /// Counts threads (top-level comments).
    pub pagination: Pagination,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let id = req.path_ulid("postId")?.to_string();
    let paging = PageRequest::from_request(&req)?;
    let viewer = Viewer::of(req.principal.as_ref());
    let post = posts::get_visible(&ctx, &id, viewer.as_ref()).await?;
    let after = match &paging.cursor {
        Some(cursor) => Some(
            cursor
                .get("afterThread")
                .and_then(Value::as_str)
                .filter(|t| ulid::Ulid::from_string(t).is_ok())
                .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API gave out"))?
                .to_string(),
        ),
        None => None,
    };
    let skip = if after.is_some() { 0 } else { paging.offset() };
    let keep = |c: &Comment| comments::visible_given(c, true, viewer.as_ref());
    let (threads, more) =
        comments::threads(&ctx, &post.id, after.as_deref(), skip, paging.limit as usize, keep).await?;
    let next_cursor = threads.last().filter(|_| more).map(|(top, _)| {
        let mut at = Item::new();
        at.insert("afterThread".into(), json!(top.id));
        encode_cursor(&at)
    });
    let flat: Vec<Comment> =
        threads.iter().flat_map(|(top, replies)| std::iter::once(top).chain(replies)).cloned().collect();
    let mut shown = views::comments(&ctx, &flat, viewer.as_ref().map(|v| &v.id)).await?.into_iter();
    let mut out = Vec::new();
    for (_, replies) in &threads {
        let Some(comment) = shown.next() else { break };
        out.push(Thread { comment, replies: shown.by_ref().take(replies.len()).collect() });
    }
    let total = (post.threads.max(0) as u64).max((skip + out.len() + usize::from(more)) as u64);
    let mut pagination = Pagination::new(paging.page, paging.limit, total);
    pagination.has_next = more;
    pagination.has_prev = paging.page > 1 || after.is_some();
    Ok(Reply::ok(CommentsPage { comments: out, pagination, next_cursor }))
}
