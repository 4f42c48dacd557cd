//! `GET /api/admin/users`: accounts, newest first, found by `search` in the
//! email, username or name (case and diacritics ignored), filtered by `role`
//! and `status` (the status in effect: a suspension that has ended shows as
//! active), paginated. Reads the users' directory (its shards at once) and
//! filters in memory: an admin tool for up to tens of thousands of accounts
//! (docs/admin.md says what to do beyond).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::accounts::roles;
use whatif_shared::accounts::user::{AccountStatus, User};
use whatif_shared::auth::{Plan, Role};
use whatif_shared::context::AppContext;
use whatif_shared::pagination::{PageRequest, Pagination};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, text};

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserList {
    pub users: Vec<AdminUser>,
    pub pagination: Pagination,
}

/// An account as an admin sees it (never its password hash or tokens).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub username: Option<String>,
    pub name: Option<String>,
    pub role: Role,
    /// The status in effect now.
    pub status: AccountStatus,
    /// When a suspension ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<String>,
    pub plan: Plan,
    pub created_at: String,
    pub updated_at: String,
}

impl AdminUser {
    pub fn of(user: &User, now: i64) -> Self {
        let name = user.full_name();
        let status = user.status_at(now);
        AdminUser {
            id: user.id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            username: user.username.clone(),
            name,
            role: user.role,
            status,
            suspended_until: user
                .suspended_until
                .filter(|_| status == AccountStatus::Suspended)
                .and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok())
                .map(whatif_shared::clock::rfc3339),
            plan: user.plan,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
        }
    }

    fn matches(&self, words: &[String]) -> bool {
        let haystack = text::fold(&format!(
            "{} {} {}",
            self.email,
            self.username.as_deref().unwrap_or_default(),
            self.name.as_deref().unwrap_or_default()
        ));
        words.iter().all(|w| haystack.contains(w.as_str()))
    }
}

fn parse<T: serde::de::DeserializeOwned>(req: &ApiRequest, name: &str, allowed: &str) -> ApiResult<Option<T>> {
    match req.query_param(name) {
        None => Ok(None),
        Some(raw) => serde_json::from_value(serde_json::Value::String(raw.to_string()))
            .map(Some)
            .map_err(|_| ApiError::validation(name, format!("must be one of {allowed}"))),
    }
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let paging = PageRequest::from_request(&req)?;
    if paging.cursor.is_some() {
        return Err(ApiError::validation("cursor", "this list pages by page and limit"));
    }
    let role: Option<Role> = parse(&req, "role", "user, moderator, admin")?;
    let status: Option<AccountStatus> = parse(&req, "status", "active, suspended, banned, deleted")?;
    let search = req.query_param("search").unwrap_or_default();
    if search.chars().count() > 100 {
        return Err(ApiError::validation("search", "must be at most 100 characters"));
    }
    let words: Vec<String> = text::fold(search).split_whitespace().map(str::to_string).collect();
    let now = ctx.clock.epoch_seconds();
    let found: Vec<AdminUser> = roles::directory(&ctx)
        .await?
        .iter()
        .map(|u| AdminUser::of(u, now))
        .filter(|u| role.is_none_or(|r| u.role == r))
        .filter(|u| status.is_none_or(|s| u.status == s))
        .filter(|u| u.matches(&words))
        .collect();
    let total = found.len() as u64;
    let users = found.into_iter().skip(paging.offset()).take(paging.limit as usize).collect();
    Ok(Reply::ok(UserList { users, pagination: Pagination::new(paging.page, paging.limit, total) }))
}
