//! A job as an admin sees it: what it is, whose, where it stands and what
//! it cost; never what it works on (its input) or what it made (its result).
//! And the admin as an audit entry's actor.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use whatif_shared::accounts::store as accounts;
use whatif_shared::audit::Actor;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::JobStatus;
use whatif_shared::jobs::records::CHARGE;
use whatif_shared::ports::table::Item;
use whatif_shared::{ApiRequest, ApiResult, keys};

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminJob {
    pub id: String,
    /// The job kind, e.g. `generation`, `video`, `account-export`.
    #[serde(rename = "type")]
    pub kind: String,
    pub owner_id: String,
    pub status: JobStatus,
    pub progress: u8,
    /// Why it failed or was cancelled (a dead-lettered job's last error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What it cost, when it was paid for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge: Option<JobCharge>,
    /// How often an admin ran it again.
    pub retries: u64,
    /// Whether it produced a result (not shown here).
    pub has_result: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobCharge {
    pub credits: i64,
    /// The ledger's reason (`generation`, `video`, ...).
    pub reason: String,
    /// Its credits went back to the owner (it failed or was cancelled before it produced anything).
    pub refunded: bool,
}

impl AdminJob {
    /// The view of a stored job; `None` when the item is not a readable job.
    pub fn from_item(item: &Item) -> Option<Self> {
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
        let status: JobStatus = serde_json::from_value(item.get("status")?.clone()).ok()?;
        let charge = item.get(CHARGE).and_then(|c| {
            Some(JobCharge {
                credits: c.get("credits")?.as_i64()?,
                reason: c.get("reason").and_then(Value::as_str).unwrap_or_default().to_string(),
                refunded: item.get("refunded").and_then(Value::as_bool).unwrap_or(false),
            })
        });
        Some(AdminJob {
            id: text("id")?,
            kind: text("kind").unwrap_or_default(),
            owner_id: text("userId").unwrap_or_default(),
            status,
            progress: item.get("progress").and_then(Value::as_u64).unwrap_or(0).min(100) as u8,
            error: text("error"),
            charge,
            retries: item.get("retries").and_then(Value::as_u64).unwrap_or(0),
            has_result: item.get("result").is_some_and(|r| !r.is_null()),
            created_at: text("createdAt").unwrap_or_default(),
            updated_at: text("updatedAt").unwrap_or_default(),
        })
    }

    /// The job `job_id` as stored now.
    pub async fn read(ctx: &AppContext, job_id: &str) -> ApiResult<Option<Self>> {
        Ok(ctx.table.get(&keys::job(job_id)).await?.as_ref().and_then(Self::from_item))
    }
}

/// The admin making the request, as the audit log names them (their
/// username, else their email, as it is now).
pub async fn actor(ctx: &AppContext, req: &ApiRequest) -> ApiResult<Actor> {
    let principal = req.user()?;
    let account = accounts::get_user(ctx, &principal.user_id).await?;
    Ok(Actor {
        id: principal.user_id.clone(),
        name: account.map(|a| a.username.unwrap_or(a.email)),
        role: Some(principal.role.as_str().to_string()),
    })
}
