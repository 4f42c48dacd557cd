//! `GET /api/admin/jobs?status=&type=`: the jobs in one status, newest
//! first, from the status's place on GSI2 (`JOBS#<status>`), never a scan.
//! `type` keeps one kind, filtered as the status's jobs are read, at most
//! [`MAX_EXAMINED`] per request: a page may then hold fewer than `limit`
//! with a `nextCursor` to go on from. Pages by `cursor` (the position after
//! the last job read, as the API gave it out) or by `page`/`limit`.
//! A job that ended in the dead-letter queue is `failed`, with its last error.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, encode_cursor};
use whatif_shared::ports::table::{GSI2_SK, Index, Item, Query, SortKey};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, keys};

use crate::admin_job::AdminJob;

/// The statuses a job can be in.
pub const STATUSES: &[&str] = &["queued", "running", "succeeded", "failed", "cancelled"];

/// The most jobs one request reads while filtering by kind or skipping to a page.
pub const MAX_EXAMINED: usize = 2000;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobList {
    pub jobs: Vec<AdminJob>,
    pub pagination: JobPages,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobPages {
    pub page: u32,
    pub limit: u32,
    /// More jobs may follow (read them with `nextCursor`).
    pub has_next: bool,
    pub next_cursor: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let status = match req.query_param("status") {
        Some(s) if STATUSES.contains(&s) => s,
        _ => return Err(ApiError::validation("status", format!("must be one of {}", STATUSES.join(", ")))),
    };
    let kind = match req.query_param("type") {
        None | Some("") => None,
        Some(k) if k.len() <= 64 && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') => {
            Some(k)
        }
        Some(_) => return Err(ApiError::validation("type", "must be a job kind: 1 to 64 of a-z, 0-9 and -")),
    };
    let paging = PageRequest::from_request(&req)?;
    let after = match &paging.cursor {
        Some(cursor) => Some(
            cursor
                .get("after")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty() && a.len() <= 200)
                .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API gave out"))?
                .to_string(),
        ),
        None => None,
    };
    let limit = paging.limit as usize;
    let mut skip = if after.is_some() { 0 } else { paging.offset() };
    let mut query = Query::partition(Index::Gsi2, keys::jobs_in_status(status)).backward().limit(100);
    if let Some(after) = &after {
        query = query.sk(SortKey::Lt(after.clone()));
    }
    let (mut jobs, mut examined, mut last) = (Vec::new(), 0usize, None::<String>);
    let has_next = 'read: loop {
        let page = ctx.table.query(&query).await?;
        let count = page.items.len();
        for (i, item) in page.items.into_iter().enumerate() {
            examined += 1;
            last = item.get(GSI2_SK).and_then(Value::as_str).map(str::to_string);
            let wanted = AdminJob::from_item(&item).filter(|j| kind.is_none_or(|k| j.kind == k));
            if let Some(job) = wanted {
                if skip > 0 {
                    skip -= 1;
                } else {
                    jobs.push(job);
                }
            }
            let more_here = i + 1 < count || page.next.is_some();
            if jobs.len() == limit || examined >= MAX_EXAMINED {
                break 'read more_here;
            }
        }
        match page.next {
            Some(next) => query = query.start(Some(next)),
            None => break false,
        }
    };
    let next_cursor = match (&last, has_next) {
        (Some(at), true) => {
            let mut position = Item::new();
            position.insert("after".into(), json!(at));
            Some(encode_cursor(&position))
        }
        _ => None,
    };
    let page = if after.is_some() { 1 } else { paging.page };
    let pagination = JobPages { page, limit: paging.limit, has_next: next_cursor.is_some(), next_cursor };
    Ok(Reply::ok(JobList { jobs, pagination }))
}
