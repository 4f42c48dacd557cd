//! `GET /api/admin/reports`: the moderation queue of one status (open by
//! default), highest priority first, oldest first within a priority,
//! filtered by `reason` and `targetType`, paginated; each case with its
//! distinct reporters and the target as it is now (or that it is gone).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::reports::{self, Case, Status};
use crate::targets;

#[derive(Debug, Serialize, JsonSchema)]
pub struct Queue {
    pub reports: Vec<Case>,
    pub pagination: Pagination,
}

const TARGET_TYPES: [&str; 5] = ["scenario", "share", "post", "comment", "user"];

/// The reasons a report may give (`GET /api/reporting/options`).
pub const REASONS: &[&str] = &[
    "inappropriate_content",
    "spam",
    "harassment",
    "violence",
    "hate_speech",
    "adult_content",
    "misinformation",
    "copyright_violation",
    "other",
];

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    if paging.cursor.is_some() {
        return Err(ApiError::validation("cursor", "the queue pages by page and limit"));
    }
    let status = match req.query_param("status") {
        None | Some("open") => Status::Open,
        Some("resolved") => Status::Resolved,
        Some("dismissed") => Status::Dismissed,
        Some(_) => return Err(ApiError::validation("status", "must be open, resolved or dismissed")),
    };
    let target_type = req.query_param("targetType");
    if target_type.is_some_and(|t| !TARGET_TYPES.contains(&t)) {
        return Err(ApiError::validation("targetType", "must be scenario, share, post, comment or user"));
    }
    let reason = req.query_param("reason");
    if reason.is_some_and(|r| !REASONS.contains(&r)) {
        return Err(ApiError::validation("reason", format!("must be one of {}", REASONS.join(", "))));
    }
    let cases: Vec<Case> = reports::by_status(&ctx, status)
        .await?
        .into_iter()
        .filter(|c| target_type.is_none_or(|t| c.target_type == t))
        .filter(|c| reason.is_none_or(|r| c.reasons.get(r).is_some_and(|n| *n > 0)))
        .collect();
    let total = cases.len() as u64;
    let page: Vec<Case> = cases.into_iter().skip(paging.offset()).take(paging.limit as usize).collect();
    let views = page
        .iter()
        .map(|c| targets::current(&ctx, &c.target_type, &c.target_id, c.owner_id.as_deref().unwrap_or_default()));
    let views = futures::future::try_join_all(views).await?;
    let reports = page.into_iter().zip(views).map(|(mut c, v)| {
        c.target = Some(v);
        c
    });
    Ok(Reply::ok(Queue { reports: reports.collect(), pagination: Pagination::new(paging.page, paging.limit, total) }))
}
